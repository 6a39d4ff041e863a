"""What the agent can do on a call: actions, their store and their webhooks."""
