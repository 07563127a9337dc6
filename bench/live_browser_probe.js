// Evaluated in the live room page by bench/live_browser_latency_bench.py (an arrow function:
// page.evaluate(source, options)). For every frame the <video> presents it reads the wall-clock
// stamp the source drew into the frame (bench/live_latency_bench.py source_argv: 24 blocks of
// 32x32 at the top-left of a 1280x720 frame, bit i white when set) and notes when the frame was
// shown. window.__latencyProbe.take() hands the records back.
(options) => {
  const { bits, block, refWidth, selector } = options;
  const video = document.querySelector(selector);
  const wrap = 2 ** bits;
  // Not attached to the document: reading pixels must not cost a layout or a paint.
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  // One row per presented frame: [shownAt, callbackAt, stamp or null, mediaTime, bufferAhead,
  // width, height, presentedFrames, playbackRate]; events: [at, type, detail].
  const frames = [];
  const events = [];
  let stopped = false;

  // The rendition may be 360p or 720p: block positions scale with the frame's width. Only the
  // stripe is copied, from the frame at its intrinsic size (drawImage's source rectangle is in
  // the video's own pixels): the same pixels as drawing the whole frame, for a fraction of the CPU.
  function readStamp(width) {
    const size = (block * width) / refWidth;
    const w = Math.ceil(bits * size);
    const h = Math.ceil(size);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.drawImage(video, 0, 0, w, h, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    const y0 = Math.round(size / 4);
    const y1 = Math.max(y0 + 1, Math.round((size * 3) / 4));
    let value = 0;
    for (let bit = 0; bit < bits; bit += 1) {
      // The inner half of each block: its edges are blurred by scaling and compression.
      const x0 = Math.round(bit * size + size / 4);
      const x1 = Math.max(x0 + 1, Math.round(bit * size + (size * 3) / 4));
      let sum = 0;
      for (let y = y0; y < y1; y += 1) {
        for (let x = x0; x < x1; x += 1) {
          const i = (y * w + x) * 4;
          sum += px[i] + px[i + 1] + px[i + 2];
        }
      }
      const mean = sum / (3 * (y1 - y0) * (x1 - x0));
      // Neither black nor white: not a stamped frame (or a corrupt one). A failure, not a guess.
      if (mean > 80 && mean < 176) return null;
      if (mean > 128) value += 2 ** bit;
    }
    // The stripe holds the stamp modulo 2^24 ms (4.7 h): unwrap it against this clock.
    const ref = Date.now();
    return ref - ((((ref - value) % wrap) + wrap) % wrap);
  }

  function bufferAhead(at) {
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= at + 0.05 && at <= ranges.end(i)) return ranges.end(i) - at;
    }
    return -1;
  }

  function onFrame(_now, meta) {
    if (stopped) return;
    // Date.now() first: it is the callback's moment, before the pixel work below.
    const callbackAt = Date.now();
    const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
    const stamp = meta.width > 0 ? readStamp(meta.width) : null;
    frames.push([
      shownAt,
      callbackAt,
      stamp,
      meta.mediaTime,
      bufferAhead(meta.mediaTime),
      meta.width,
      meta.height,
      meta.presentedFrames,
      video.playbackRate,
    ]);
    video.requestVideoFrameCallback(onFrame);
  }

  for (const type of ["waiting", "playing", "seeking", "stalled", "ratechange", "emptied"]) {
    video.addEventListener(type, () => {
      const detail = type === "ratechange" ? video.playbackRate : video.currentTime;
      events.push([Date.now(), type, detail]);
    });
  }
  video.requestVideoFrameCallback(onFrame);

  window.__latencyProbe = {
    take() {
      stopped = true;
      const quality = video.getVideoPlaybackQuality();
      return {
        frames,
        events,
        dropped: quality.droppedVideoFrames,
        total: quality.totalVideoFrames,
        // performance.timeOrigin + performance.now() against Date.now(): the two clocks' gap.
        clockGap: Date.now() - (performance.timeOrigin + performance.now()),
      };
    },
  };
};
