// Records a clip from the camera's own stream with MediaRecorder: no sound (no microphone is
// asked for, and no bystander's words are kept), 1280 x 720 while recording, a running time
// against the limit, a stop at the limit. The clip is a Blob in page memory, never stored on
// the device. Where the browser cannot record, `supported` is false and the page offers the
// phone's own camera through a file input instead.

// The first type the browser can record is used. MP4 with H.264 High comes first: the server
// stores it as it is, where WebM (VP8/VP9) has to be converted.
const TYPES = [
  "video/mp4;codecs=avc1.640028",
  "video/mp4;codecs=avc1",
  "video/mp4",
  "video/webm;codecs=vp9",
  "video/webm;codecs=vp8",
  "video/webm",
];
const RECORDING_SIZE = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const BITS_PER_SECOND = 4000000;
const CHUNK_MS = 1000;

export function recordingType() {
  if (typeof window.MediaRecorder !== "function" || !MediaRecorder.isTypeSupported) {
    return "";
  }
  return TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
}

// "0:07", "1:00"
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

export class Recorder extends EventTarget {
  constructor({ limitSeconds }) {
    super();
    this.limitSeconds = limitSeconds;
    this.type = recordingType();
    this.recorder = null;
    this.chunks = [];
    this.startedAt = 0;
    this.ticker = null;
    this.track = null;
  }

  get supported() {
    return Boolean(this.type);
  }

  get recording() {
    return Boolean(this.recorder) && this.recorder.state === "recording";
  }

  get elapsed() {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  async start(stream) {
    if (this.recording || !this.supported || !stream) {
      return;
    }
    this.track = stream.getVideoTracks()[0] || null;
    if (this.track) {
      try {
        await this.track.applyConstraints(RECORDING_SIZE);
      } catch (_) {
        // the camera keeps its size: the server scales a larger clip down
      }
    }
    // Only the picture: the stream never has a microphone track, and none is added.
    const video = new MediaStream(stream.getVideoTracks());
    this.chunks = [];
    this.recorder = new MediaRecorder(video, { mimeType: this.type, videoBitsPerSecond: BITS_PER_SECOND });
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size > 0) {
        this.chunks.push(event.data);
      }
    });
    this.recorder.addEventListener("stop", () => this.finish());
    this.recorder.start(CHUNK_MS);
    this.startedAt = performance.now();
    this.ticker = setInterval(() => this.tick(), 250);
    this.dispatchEvent(new Event("start"));
    this.tick();
  }

  tick() {
    const elapsed = this.elapsed;
    this.dispatchEvent(new CustomEvent("tick", { detail: { elapsed } }));
    if (elapsed >= this.limitSeconds) {
      this.stop();
    }
  }

  stop() {
    if (this.recorder && this.recorder.state !== "inactive") {
      this.recorder.stop();
    }
  }

  finish() {
    clearInterval(this.ticker);
    const seconds = Math.min(this.elapsed, this.limitSeconds);
    const blob = new Blob(this.chunks, { type: this.type.split(";")[0] });
    this.chunks = [];
    this.recorder = null;
    this.startedAt = 0;
    this.dispatchEvent(new CustomEvent("stop", { detail: { blob, seconds } }));
  }
}
