// Going live from the browser: the camera and microphone preview with device pickers, and
// MediaRecorder webm chunks sent over the ingest WebSocket, reconnecting with back-off while the
// host wants to be on air. The control room (live-control.js) decides when; this does how.

import { csrfToken, flashStatus, showError, t } from "./api.js";
import { wsUrl } from "./live-common.js";

const TIMESLICE_MS = 250;
const SLOW_BYTES = 4 * 1024 * 1024;
const RECORDER_TYPES = [
  "video/webm;codecs=vp8,opus",
  "video/webm;codecs=vp9,opus",
  "video/webm;codecs=h264,opus",
  "video/webm",
];

export function mediaAvailable() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
}

function recorderType() {
  return RECORDER_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
}

/**
 * els: preview (video), cameraSelect, micSelect, previewEmpty, cameraToggle, status, error, onAir.
 * ingestUrl: the room's ingest WebSocket path.
 */
export class BrowserBroadcast {
  constructor(els, ingestUrl) {
    this.els = els;
    this.ingestUrl = ingestUrl;
    this.stream = null;
    this.ws = null;
    this.recorder = null;
    this.wanted = false;
    this.retries = 0;
    this.retryTimer = 0;
    els.cameraToggle.addEventListener("click", () => (this.stream ? this.stopCamera() : this.startCamera()));
    els.cameraSelect.addEventListener("change", () => this.stream && this.startCamera());
    els.micSelect.addEventListener("change", () => this.stream && this.startCamera());
  }

  /** On air from this browser: the ingest socket is open. */
  get sending() {
    return Boolean(this.ws);
  }

  async listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, label) => {
      const current = select.value;
      const first = select.options[0];
      select.replaceChildren(first);
      let n = 0;
      for (const device of devices) {
        if (device.kind !== kind) continue;
        n += 1;
        const option = document.createElement("option");
        option.value = device.deviceId;
        option.textContent = device.label || t(label, { n });
        select.append(option);
      }
      select.value = [...select.options].some((o) => o.value === current) ? current : "";
    };
    fill(this.els.cameraSelect, "videoinput", "camera_n");
    fill(this.els.micSelect, "audioinput", "mic_n");
  }

  stopCamera() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.els.preview.srcObject = null;
    this.els.previewEmpty.hidden = false;
    this.els.cameraToggle.textContent = t("camera_on");
  }

  async startCamera() {
    const { cameraSelect, micSelect, error } = this.els;
    showError(error, null);
    if (!mediaAvailable()) {
      showError(error, { message: t("no_media") });
      return false;
    }
    const constraints = {
      video: {
        width: { ideal: 720 },
        height: { ideal: 1280 },
        frameRate: { ideal: 30 },
        ...(cameraSelect.value ? { deviceId: { exact: cameraSelect.value } } : {}),
      },
      audio: micSelect.value ? { deviceId: { exact: micSelect.value } } : true,
    };
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      if (this.stream) for (const track of this.stream.getTracks()) track.stop();
      this.stream = stream;
      this.els.preview.srcObject = stream;
      this.els.previewEmpty.hidden = true;
      this.els.cameraToggle.textContent = t("camera_off");
      await this.listDevices(); // labels are only known once access is granted
      if (this.recorder) {
        // A new device means a new webm stream: the ingest side takes it as a new part.
        this.closeIngest(false);
        this.openIngest();
      }
      return true;
    } catch (err) {
      showError(error, { message: t("camera_denied", { reason: err && err.message ? err.message : String(err) }) });
      return false;
    }
  }

  /** Go on air and stay there (reconnecting) until stop(). */
  start() {
    this.wanted = true;
    this.openIngest();
  }

  /** Stop sending; with `end`, tell the ingest side the show is over after the last chunk. */
  stop(end) {
    this.wanted = false;
    this.closeIngest(end);
  }

  startRecorder() {
    const mimeType = recorderType();
    const recorder = new MediaRecorder(this.stream, {
      ...(mimeType ? { mimeType } : {}),
      videoBitsPerSecond: 2_500_000,
      audioBitsPerSecond: 128_000,
    });
    recorder.addEventListener("dataavailable", (event) => {
      const ws = this.ws;
      if (!event.data || !event.data.size || !ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(event.data);
      if (ws.bufferedAmount > SLOW_BYTES) flashStatus(this.els.status, t("ingest_slow"), 5000);
    });
    recorder.start(TIMESLICE_MS);
    this.recorder = recorder;
  }

  stopRecorder() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    this.recorder = null;
  }

  openIngest() {
    if (!this.wanted || !this.stream) return;
    const { status, error, onAir } = this.els;
    status.textContent = t("connecting_ingest");
    const url = wsUrl(`${this.ingestUrl}?csrf_token=${encodeURIComponent(csrfToken())}`);
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.retries = 0;
      this.startRecorder();
      onAir.hidden = false;
      status.textContent = t("on_air");
    });
    ws.addEventListener("message", (event) => {
      // The ingest side may say why it stops ({"type": "error", "message": ...}).
      if (typeof event.data !== "string") return;
      try {
        const message = JSON.parse(event.data);
        if (message.type === "error" && message.message) showError(error, message);
      } catch {
        /* not for us */
      }
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.stopRecorder();
      this.ws = null;
      onAir.hidden = true;
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    if (!this.wanted) return;
    this.retries += 1;
    const seconds = Math.min(30, 2 ** Math.min(this.retries, 5));
    this.els.status.textContent = t("ingest_retry", { n: seconds });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.openIngest(), seconds * 1000);
  }

  closeIngest(end) {
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    const recorder = this.recorder;
    this.recorder = null;
    const finish = () => {
      if (ws && ws.readyState === WebSocket.OPEN) {
        if (end) ws.send(JSON.stringify({ type: "end" }));
        ws.close(1000);
      } else if (ws) {
        ws.close();
      }
    };
    if (recorder && recorder.state !== "inactive") {
      // The last chunk comes with stop(): send it before saying goodbye.
      recorder.addEventListener(
        "dataavailable",
        (event) => {
          if (ws && ws.readyState === WebSocket.OPEN && event.data && event.data.size) ws.send(event.data);
        },
        { once: true },
      );
      recorder.addEventListener("stop", finish, { once: true });
      recorder.stop();
    } else {
      finish();
    }
    this.els.onAir.hidden = true;
  }
}
