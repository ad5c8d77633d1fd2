/* The tracing tool (pages/measure.html): an outline drawn over the photo, in the stored photo's
   pixel coordinates (the overlay's viewBox), measured by POST /api/v1/patients/{mrn}/measurements.
   Pointer events cover mouse, pen and touch; the keyboard moves a cross and places points. */
(function () {
  "use strict";
  const root = document.querySelector("[data-trace]");
  if (!root) return;
  const stage = root.querySelector("[data-trace-stage]");
  const svg = stage.querySelector("svg");
  const outline = root.querySelector("[data-trace-outline]");
  const axis = root.querySelector("[data-trace-axis]");
  const cursor = root.querySelector("[data-trace-cursor]");
  const count = root.querySelector("[data-trace-count]");
  const result = root.querySelector("[data-trace-result]");
  const buttons = {
    measure: root.querySelector("[data-trace-measure]"),
    suggest: root.querySelector("[data-trace-suggest]"),
    undo: root.querySelector("[data-trace-undo]"),
    clear: root.querySelector("[data-trace-clear]"),
    save: root.querySelector("[data-trace-save]"),
  };
  const columns = Number(root.dataset.columns);
  const rows = Number(root.dataset.rows);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let points = [];
  let drawing = false;
  let cross = [columns / 2, rows / 2];

  // Screen pixels between freehand points: dense enough to follow an edge, few enough to send.
  const FREEHAND_STEP = 4;

  function toPhoto(event) {
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * columns;
    const y = ((event.clientY - box.top) / box.height) * rows;
    return [Math.min(Math.max(x, 0), columns), Math.min(Math.max(y, 0), rows)];
  }

  function screenDistance(a, b) {
    const scale = svg.getBoundingClientRect().width / columns;
    return Math.hypot(a[0] - b[0], a[1] - b[1]) * scale;
  }

  function render() {
    outline.setAttribute("points", points.map((p) => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" "));
    const n = points.length;
    count.textContent = n === 0 ? "No point yet." : n + (n === 1 ? " point." : " points.") + (n < 3 ? " At least 3 are needed." : "");
    buttons.measure.disabled = n < 3;
    buttons.suggest.disabled = n < 3;
    buttons.undo.disabled = n === 0;
    buttons.clear.disabled = n === 0;
    if (buttons.save) buttons.save.disabled = n < 3;
  }

  function changed() {
    axis.setAttribute("x1", 0); axis.setAttribute("y1", 0); axis.setAttribute("x2", 0); axis.setAttribute("y2", 0);
    render();
  }

  function addPoint(p) {
    points.push(p);
    changed();
  }

  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    drawing = true;
    addPoint(toPhoto(event));
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const p = toPhoto(event);
    if (screenDistance(p, points[points.length - 1]) >= FREEHAND_STEP) addPoint(p);
  });
  const stop = () => { drawing = false; };
  stage.addEventListener("pointerup", stop);
  stage.addEventListener("pointercancel", stop);

  function showCross() {
    cursor.hidden = false;
    const r = Math.max(columns, rows) / 150;
    const circle = cursor.querySelector("circle");
    circle.setAttribute("cx", cross[0]); circle.setAttribute("cy", cross[1]); circle.setAttribute("r", r);
  }

  stage.addEventListener("keydown", (event) => {
    const step = (event.shiftKey ? 0.05 : 0.01) * Math.max(columns, rows);
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      cross = [Math.min(Math.max(cross[0] + moves[event.key][0], 0), columns), Math.min(Math.max(cross[1] + moves[event.key][1], 0), rows)];
      showCross();
    } else if (event.key === "Enter" || event.key === " ") {
      addPoint(cross.slice());
      showCross();
    } else if (event.key === "Backspace") {
      points.pop(); changed();
    } else if (event.key === "Escape") {
      points = []; changed();
    } else {
      return;
    }
    event.preventDefault();
  });
  stage.addEventListener("focus", showCross);
  stage.addEventListener("blur", () => { cursor.hidden = true; });

  buttons.undo.addEventListener("click", () => { points.pop(); changed(); });
  buttons.clear.addEventListener("click", () => { points = []; changed(); });

  async function post(url, body) {
    const answer = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(body),
    });
    const data = await answer.json().catch(() => ({}));
    return { ok: answer.ok, data };
  }

  function say(html, tone) {
    result.className = "trace-result" + (tone ? " trace-" + tone : "");
    result.innerHTML = html;
    result.focus();
  }

  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  function figures(data, saved) {
    return '<dl class="record">' +
      "<div><dt>Area</dt><dd data-trace-area>" + data.area_cm2.toFixed(2) + " cm²</dd></div>" +
      "<div><dt>Length</dt><dd>" + data.length_cm.toFixed(1) + " cm</dd></div>" +
      "<div><dt>Width</dt><dd>" + data.width_cm.toFixed(1) + " cm</dd></div>" +
      "<div><dt>Perimeter</dt><dd>" + data.perimeter_cm.toFixed(1) + " cm</dd></div>" +
      "<div><dt>Tilt</dt><dd>" + data.marker.tilt_deg.toFixed(0) + "° (at most " + data.marker.max_tilt_deg.toFixed(0) + "°)</dd></div>" +
      "</dl>" + (saved ? '<p class="trace-saved">Saved to the wound\'s record.</p>' : "");
  }

  async function measure(record) {
    buttons.measure.disabled = true;
    say("Measuring…");
    const { ok, data } = await post(root.dataset.measureUrl, { sop_instance_uid: root.dataset.sop, outline: points, record });
    if (ok) {
      const [a, b] = data.length_axis;
      axis.setAttribute("x1", a[0]); axis.setAttribute("y1", a[1]); axis.setAttribute("x2", b[0]); axis.setAttribute("y2", b[1]);
      say(figures(data, record && data.measurement_id !== null), record ? "success" : "");
    } else {
      say("<p>" + escapeText(data.detail || "The photo could not be measured.") + "</p>", "error");
    }
    render();
  }

  buttons.measure.addEventListener("click", () => measure(false));
  if (buttons.save) buttons.save.addEventListener("click", () => measure(true));
  buttons.suggest.addEventListener("click", async () => {
    say("Looking for the wound's edge inside your loop…");
    const { ok, data } = await post(root.dataset.suggestUrl, { sop_instance_uid: root.dataset.sop, loop: points });
    if (ok) {
      points = data.outline;
      changed();
      say("<p>Suggested outline shown: correct it if needed, then choose Measure.</p>");
    } else {
      say("<p>" + escapeText(data.detail || "No outline could be suggested.") + "</p>", "error");
    }
  });
  render();
})();
