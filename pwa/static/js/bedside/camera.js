// The in-page camera: the back camera at the highest resolution its track allows, a torch and a
// camera switch only where the device has them, and a frame taken as a JPEG Blob that lives only
// in page memory. When the camera cannot open (no permission, no camera, no https), the file
// input takes over and the message says why.

const FIRST_ASK = { facingMode: { ideal: "environment" }, width: { ideal: 4096 }, height: { ideal: 3072 } };
const JPEG_QUALITY = 0.92;

const WHY = {
  NotAllowedError:
    "Pointcare may not use the camera: permission was refused. Take the photos with the button below " +
    "(it opens the phone's camera), or allow the camera for this site in the browser's settings and reload.",
  NotFoundError: "This device has no camera Pointcare can use. Choose photos with the button below.",
  NotReadableError:
    "The camera is busy (another app may be using it). Close the other app and reload, or use the button below.",
  insecure:
    "The in-page camera needs a secure (https) connection. Use the button below: it opens the phone's camera.",
  unsupported: "This browser has no in-page camera. Use the button below: it opens the phone's camera.",
  other: "The camera could not be opened. Use the button below: it opens the phone's camera.",
};
WHY.SecurityError = WHY.NotAllowedError;
WHY.OverconstrainedError = WHY.NotFoundError;

export class Camera extends EventTarget {
  constructor(root) {
    super();
    this.video = root.querySelector("[data-camera-video]");
    this.status = root.querySelector("[data-camera-status]");
    this.torchButton = root.querySelector("[data-camera-torch]");
    this.switchButton = root.querySelector("[data-camera-switch]");
    this.viewfinder = root.querySelector("[data-viewfinder]");
    this.fallback = root.querySelector("[data-camera-fallback]");
    this.reason = root.querySelector("[data-camera-reason]");
    this.stream = null;
    this.starting = null;
    this.generation = 0;
    this.deviceIds = [];
    this.deviceIndex = 0;
    this.failed = false;
    this.torchOn = false;
    this.torchButton.addEventListener("click", () => this.toggleTorch());
    this.switchButton.addEventListener("click", () => this.switchCamera());
  }

  get ready() {
    return Boolean(this.stream) && this.video.videoWidth > 0;
  }

  // One opening at a time: waking up and unlocking may both ask for the camera.
  start(deviceId) {
    if (!this.starting) {
      this.starting = this.open(deviceId).finally(() => {
        this.starting = null;
      });
    }
    return this.starting;
  }

  async open(deviceId) {
    if (this.failed || this.stream) {
      return;
    }
    if (!window.isSecureContext) {
      this.fail("insecure");
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.fail("unsupported");
      return;
    }
    this.say("Opening the camera…");
    const video = deviceId ? { ...FIRST_ASK, facingMode: undefined, deviceId: { exact: deviceId } } : FIRST_ASK;
    const generation = this.generation;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (error) {
      this.fail(error && error.name);
      return;
    }
    if (generation !== this.generation) {
      // stopped (locked, hidden) while the camera was opening: it stays closed
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    this.stream = stream;
    const track = this.stream.getVideoTracks()[0];
    await useHighestResolution(track);
    this.video.srcObject = this.stream;
    try {
      await this.video.play();
    } catch (_) {
      // autoplay of a muted inline video is allowed; a refusal only delays the first frame
    }
    this.say("");
    await this.offerTools(track);
    this.dispatchEvent(new Event("ready"));
  }

  stop() {
    this.generation += 1;
    if (this.stream) {
      this.stream.getTracks().forEach((track) => track.stop());
    }
    this.stream = null;
    this.video.srcObject = null;
    this.torchOn = false;
    this.torchButton.setAttribute("aria-pressed", "false");
  }

  // The current frame as a JPEG Blob: full size, or with its longest side at most maxSide (a
  // clip's thumbnail in the queue).
  async capture(maxSide) {
    const videoWidth = this.video.videoWidth;
    const videoHeight = this.video.videoHeight;
    if (!videoWidth || !videoHeight) {
      throw new Error("The camera has no picture yet.");
    }
    const scale = maxSide ? Math.min(1, maxSide / Math.max(videoWidth, videoHeight)) : 1;
    const width = Math.round(videoWidth * scale);
    const height = Math.round(videoHeight * scale);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(this.video, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    // Release the canvas's pixels now rather than whenever the collector runs.
    canvas.width = 0;
    canvas.height = 0;
    if (!blob) {
      throw new Error("The photo could not be made.");
    }
    return blob;
  }

  // Back to the most the camera can do after a clip was recorded at 1280 x 720.
  async fullResolution() {
    const track = this.stream && this.stream.getVideoTracks()[0];
    if (track) {
      await useHighestResolution(track);
    }
  }

  async offerTools(track) {
    const capabilities = track.getCapabilities ? track.getCapabilities() : {};
    this.torchButton.hidden = capabilities.torch !== true;
    if (navigator.mediaDevices.enumerateDevices && this.deviceIds.length === 0) {
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.deviceIds = devices.filter((d) => d.kind === "videoinput" && d.deviceId).map((d) => d.deviceId);
      const current = track.getSettings ? track.getSettings().deviceId : undefined;
      this.deviceIndex = Math.max(0, this.deviceIds.indexOf(current));
    }
    this.switchButton.hidden = this.deviceIds.length < 2;
  }

  async toggleTorch() {
    const track = this.stream && this.stream.getVideoTracks()[0];
    if (!track) {
      return;
    }
    try {
      await track.applyConstraints({ advanced: [{ torch: !this.torchOn }] });
      this.torchOn = !this.torchOn;
    } catch (_) {
      this.torchButton.hidden = true;
    }
    this.torchButton.setAttribute("aria-pressed", String(this.torchOn));
  }

  async switchCamera() {
    if (this.deviceIds.length < 2) {
      return;
    }
    this.deviceIndex = (this.deviceIndex + 1) % this.deviceIds.length;
    this.stop();
    await this.start(this.deviceIds[this.deviceIndex]);
  }

  fail(name) {
    this.failed = true;
    this.stop();
    this.viewfinder.hidden = true;
    this.reason.textContent = WHY[name] || WHY.other;
    this.fallback.hidden = false;
    this.dispatchEvent(new Event("unavailable"));
  }

  say(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }
}

// Ask again for the most the camera can do: "ideal" 4096 x 3072 may have settled lower.
async function useHighestResolution(track) {
  const capabilities = track.getCapabilities ? track.getCapabilities() : {};
  const width = capabilities.width && capabilities.width.max;
  const height = capabilities.height && capabilities.height.max;
  if (!width || !height) {
    return;
  }
  try {
    await track.applyConstraints({ width: { ideal: width }, height: { ideal: height } });
  } catch (_) {
    // the settings the camera opened with stay: a photo at a lower resolution beats none
  }
}
