"""The words that tell the action desk what a caller asks for: each built-in action's cue, an action asked
for outright, a question for the agent, a yes or a no, a correction. Generic English, no persona's words:
the desk (:mod:`voiceagent.pipeline.action_desk`) reads them against the persona's facts.
"""

from __future__ import annotations

import re

from voiceagent.personas.words import tokens

YES = frozenset(tokens("yes yeah yep yup sure correct right please ok okay fine absolutely definitely go ahead"))
NO = frozenset(tokens("no nope don't dont not never leave keep wait stop"))
# A call back asked of someone: "can you ask the mechanic to call me", "have someone ring me back"
_ASK_TO_CALL = (r"(?:ask|tell|get|have)\s+(?:him|her|them|someone|somebody|the\s+[\w'’-]+)\s+(?:to\s+)?"
                r"(?:call|ring|phone|contact|get back to)\s+(?:me|us)")
# What a caller says when they ask for each built-in action (generic English). The model chooses; an
# action the caller's words do not ask for is set aside and the model answers in words instead.
ASKED_FOR: dict[str, re.Pattern[str]] = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in {
    "book_appointment": r"\b(?:book|booking|appointment|reservation|schedule|come in|(?:have|got) (?:you )?(?:got )?anything|"
                        r"any (?:availability|slots?|appointments?|space|spaces|room|openings?)|(?:bring|get) (?:\w+ ){1,3}in|slot|"
                        r"available|availability|reserve|fit me in|see (?:the|a) \w+|see (?:me|us)|check-?up|come by|come (?:a?round|over|out)|"
                        r"(?:pop|drop|stop|swing) (?:in|by|round)|drop (?:\w+ ){1,3}off)\b",
    "move_appointment": r"\b(?:move|change|reschedule|different (?:day|time)|another (?:day|time)|instead|"
                        r"push (?:it|my))\b",
    "cancel_appointment": r"\b(?:cancel|call off|can't make it|cannot make it|won't make it)\b",
    "find_appointment": r"\b(?:appointment|booking|booked|when am i|my time)\b",
    "take_message": r"\b(?:message|tell (?:him|her|them|the \w+)|let (?:him|her|them|the \w+) know|pass (?:on|it|that)|"
                    rf"call me back|ring me back|get back to me|note|{_ASK_TO_CALL})\b",
    "transfer_to_human": r"\b(?:person|human|someone|somebody|anyone|staff|manager|operator|receptionist|agent|"
                         r"real|transfer|put me through|connect me|speak (?:to|with)|talk (?:to|with))\b",
    "end_call": r"\b(?:bye|goodbye|good bye|that's all|that is all|that's it|nothing else|hang up|"
                r"have a (?:good|nice|great) (?:day|one|evening))\b",
}.items()}
# A question for the agent ("how much is a check-up?"); "how about Tuesday?" is an answer, not a question.
ASKING = re.compile(r"^\W*(?:how(?! about)|what|when|where|why|which|who|whose)\b|^\W*(?:do|does|are) you\b",
                     re.IGNORECASE)
# Words that ask for a booking even inside a question ("how do I book a check-up?").
# "Do you have anything on Saturday morning?", "Have you got any slots on Friday?": a question that asks for a time
BOOKING_VERB = re.compile(r"\b(?:book|schedule|reserve|fit me in|make an appointment|(?:have|got) (?:you )?(?:got )?anything"
                          r"|any (?:availability|slots?|appointments?|space|spaces|room|openings?)\b)", re.IGNORECASE)
# A question of how much, how long or how soon asks about a rule of moving or cancelling, not for either:
# "If something comes up, how much notice do you need for me to cancel?" (the facts say how much).
HOW_MUCH = re.compile(r"\bhow\s+(?:much|long|far|many|soon|early|late)\b", re.IGNORECASE)
# A question of what happens if: it asks about a rule, not for an action ("What happens if we forget and
# miss the appointment?", "What if I need to cancel?": the policies answer).
WHAT_IF = re.compile(r"\bwhat\s+(?:happens\s+|would happen\s+|will happen\s+)?(?:if|when)\b", re.IGNORECASE)
# A question whether something must be done to book: it asks about a rule, not for a booking ("Do I have
# to put a deposit down to book highlights?"). "Do I have to book?" is left to the model.
MUST_I = re.compile(r"^\W*(?:do|does|is|are)\s+(?:i|we|you|one|it|there)\b.*\b(?:have|need|got)\s+to\s+(?!book\b)",
                     re.IGNORECASE)
# A caller who asks outright for one of these gets the action's first question at once, without the model:
# a 0.5B model answered "I need to change my booking." with "Appointments are needed for all services."
# A verb of the action with its object, or "I'd like to" before it; questions for the agent (ASKING) excepted.
# "my appointment", "my dog's appointment", "the 3 pm booking"
APPOINTMENT = (r"(?:my|our|the|an?|his|her|this|that|\w+['’]s)\s+(?:[\w'’-]+\s+){0,2}"  # "Max's appointment"
               r"(?:appointment|booking|reservation|visit)\b")
# "I'd like a table for four on Friday", "Could I get a haircut on Saturday?", "have you got a table for two
# tonight?": wanting one of the persona's services, with a day or a time, asks for a booking of it.
WANTING = re.compile(r"\b(?:i'd like|i would like|we'd like|we would like|i want|we want|i need|we need|have you got|"
           r"(?:can|could|may) (?:i|we) (?:get|have|book))\s+(?P<what>(?:[\w'’-]+[\s,]+){0,4}[\w'’-]+)", re.IGNORECASE)
CHANGING = re.compile(r"\b(?:chang|mov|cancel|reschedul|push|swap|switch)\w*", re.IGNORECASE)  # not a new booking
BOOKING_NOUN = re.compile(r"(?:appointment|booking|reservation|table|slot)s?", re.IGNORECASE)
REQUESTED: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("move_appointment", (rf"\b(?:move|change|reschedule|rebook|push back|bring forward)\s+{APPOINTMENT}"
                          r"|\b(?:change|move)\s+(?:the|its|my)\s+(?:day|date|time)\b"
                          r"|\b(?:move|push|switch)\s+it\s+(?:to|till|until)\b"  # "Can we move it to Thursday?"
                          # "I've got a visit booked and I need to change the day." (heard "... change today.")
                          rf"|\b(?:got|have|had)\s+{APPOINTMENT}.*\b(?:move|change|reschedule)\b"
                          # "I've got a blow-dry booked but I need to change the day." (heard "... book ...")
                          r"|\b(?:got|have|had)\s+(?:a|an|my|the)\s+(?:[\w'-]+\s+){0,2}book(?:ed)?\b.*"
                          r"\b(?:move|change|reschedule)\b")),
    ("cancel_appointment", rf"\bcancel\s+{APPOINTMENT}"),
    ("take_message", (r"\b(?:leave|pass|give|take)\s+(?:a|an|the|him a|her a|them a)\s+message\b"
                      r"|\bpass\s+(?:on\s+)?(?:a|the)\s+message\b"
                      rf"|\b{_ASK_TO_CALL}\b")),
    ("book_appointment", (r"\b(?:i'd like|i would like|i want|i need|i'd love|i wanna|can i|could i|may i|"
                          r"(?:i was|i'm|i am) (?:hoping|looking|wanting|wondering if i could)|i wanted)\s+(?:to\s+)?"
                          r"(?:book|reserve|make an appointment|make a booking|make a reservation|schedule"
                          r"|(?:bring|get) (?:[\w'’]+ ){1,3}in)\b")),
))
# A phone line turns "my booking" into "my walking" or "my working" (tiny.en, every voice of the benchmark):
# a verb of moving or cancelling on a word ending in -ing that no fact of the persona says ("tyre
# fitting" is a service) asks for the booking all the same.
MISHEARD_BOOKING = re.compile(r"\b(?P<verb>move|change|reschedule|cancel)\s+(?:my|our|the)\s+(?P<word>[a-z]+ing)s?\b",
                               re.IGNORECASE)
# Words that change what the caller said before ("Friday instead", "actually, make it 2 pm").
CORRECTION = re.compile(r"\b(?:instead|actually|rather|make it|change it|move it|switch it)\b", re.IGNORECASE)
QUESTION = re.compile(r"\?\s*$|^\W*(?:how|what|when|where|why|which|who|do|does|is|are)\b", re.IGNORECASE)
# A goodbye said beside another answer ("Okay, thank you, have a good day." to a read-back): not "that's
# it", which agrees ("Yes, that's it.").
FAREWELL = re.compile(r"\b(?:bye|goodbye|good bye|have a (?:good|nice|great|lovely) (?:day|one|evening|weekend))\b",
                      re.IGNORECASE)
# A question for the staff the message is for, which is the message ("Can she call me about Bella's
# stitches?", "Could someone let me know when he's ready?"), not a question for the agent
FOR_THE_STAFF = re.compile(r"\b(?:call|ring|phone|text|email|contact)\s+(?:me|us)\b|\bget back to (?:me|us)\b"
                           r"|\blet (?:me|us) know\b", re.IGNORECASE)
# A request for a call back that says what it is about: the message itself ("... to call me about my brakes")
CALL_ME_ABOUT = re.compile(r"\b(?:call|ring|phone|contact|get back to)\s+(?:me|us)\s+(?:back\s+)?(?:about|regarding|re)\b",
                           re.IGNORECASE)
BYES = re.compile(r"(?:\W*\b(?:bye|by|buy)\b)+\W*", re.IGNORECASE)
