// AudioWorklet: hands microphone samples to the page in 20 ms blocks, with the block's RMS level.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = Math.round(sampleRate / 50);
    this.buffer = new Float32Array(this.block);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    let offset = 0;
    while (offset < channel.length) {
      const take = Math.min(channel.length - offset, this.block - this.filled);
      this.buffer.set(channel.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.block) {
        let sum = 0;
        for (let i = 0; i < this.block; i++) sum += this.buffer[i] * this.buffer[i];
        this.port.postMessage({ samples: this.buffer.slice(0), rms: Math.sqrt(sum / this.block) });
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("capture-processor", CaptureProcessor);
