// The Telemetry page's live chart (uPlot): one parameter of one source over 15 min, 1 h or
// 24 h. Raw points are drawn as a line; when the server answers with min/max/avg buckets, the
// avg is a line and min-max a band. Limit lines (yellow, red) are drawn where they fall inside
// the plot and are listed in words below it. New raw points are appended every few seconds;
// bucketed windows are fetched again once per bucket. The data comes from /ui/telemetry/series
// (GET /api/telemetry's answer plus the limits) under the page's session cookie.
(function () {
  "use strict";

  var POLL_MS = 3000;
  var RETRY_MS = 6000;
  var HEIGHT = 300;
  var COLOURS = {line: "#1f5fbf", edge: "rgba(31, 95, 191, 0.35)", band: "rgba(31, 95, 191, 0.14)",
                 yellow: "#d4a017", red: "#c0352b"};
  var LIMITS = [["red_high", "Red high", "red"], ["yellow_high", "Yellow high", "yellow"],
                ["yellow_low", "Yellow low", "yellow"], ["red_low", "Red low", "red"]];

  var el = document.getElementById("telemetry-chart");
  if (!el || !window.uPlot) { return; }
  var status = document.getElementById("chart-status");
  var limitList = document.getElementById("chart-limits");
  var state = {range: Number(el.dataset.rangeS), mode: null, bucketS: null, data: null,
               limits: null, start: 0, end: 0, plot: null, timer: null, generation: 0};

  function seconds(isoText) { return Date.parse(isoText) / 1000; }
  function iso(s) { return new Date(s * 1000).toISOString(); }
  function maxPoints() { return Math.max(100, Math.min(2000, Math.round(el.clientWidth || 600))); }
  function clock(s) { return iso(s).slice(11, 19) + " UTC"; }

  function fetchSeries(since) {
    var query = new URLSearchParams({source: el.dataset.source, parameter: el.dataset.parameter,
                                     since: iso(since), max_points: String(maxPoints())});
    return fetch(el.dataset.seriesUrl + "?" + query, {credentials: "same-origin",
                                                      headers: {Accept: "application/json"}})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") !== 0) {
          throw new Error("signed out: reload the page to sign in again");
        }
        if (!response.ok) { throw new Error("the server answered " + response.status); }
        return response.json();
      });
  }

  function columns(answer) {
    if (answer.mode === "raw") {
      return [answer.points.map(function (p) { return seconds(p.time); }),
              answer.points.map(function (p) { return p.value; })];
    }
    var b = answer.buckets;
    return [b.map(function (x) { return seconds(x.time); }), b.map(function (x) { return x.avg; }),
            b.map(function (x) { return x.min; }), b.map(function (x) { return x.max; })];
  }

  function drawLimits(u) {
    if (!state.limits) { return; }
    var ctx = u.ctx, box = u.bbox;
    ctx.save();
    ctx.lineWidth = 2;
    ctx.setLineDash([8, 5]);
    LIMITS.forEach(function (limit) {
      var value = state.limits[limit[0]];
      if (value === null || value === undefined) { return; }
      var y = u.valToPos(value, "y", true);
      if (y < box.top || y > box.top + box.height) { return; }
      ctx.strokeStyle = COLOURS[limit[2]];
      ctx.beginPath();
      ctx.moveTo(box.left, y);
      ctx.lineTo(box.left + box.width, y);
      ctx.stroke();
    });
    ctx.restore();
  }

  // 24-hour UTC clock times on the time axis; seconds when the ticks are under a minute apart.
  function timeLabels(u, splits, axisIdx, space, step) {
    return splits.map(function (s) { return iso(s).slice(11, step < 60 ? 19 : 16); });
  }

  function options() {
    var raw = state.mode === "raw";
    var name = el.dataset.parameter;
    var series = [{label: "Time (UTC)"}];
    if (raw) {
      series.push({label: name, stroke: COLOURS.line, width: 2});
    } else {
      series.push({label: name + " avg", stroke: COLOURS.line, width: 2},
                  {label: "min", stroke: COLOURS.edge, width: 1},
                  {label: "max", stroke: COLOURS.edge, width: 1});
    }
    return {
      width: el.clientWidth || 600, height: HEIGHT, series: series,
      bands: raw ? [] : [{series: [3, 2], fill: COLOURS.band}],
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {x: {time: true, range: function () { return [state.start, state.end]; }}},
      axes: [{values: timeLabels}, {label: el.dataset.unit || name, size: 60}],
      hooks: {draw: [drawLimits]}
    };
  }

  function showLimits() {
    if (!limitList) { return; }
    limitList.textContent = "";
    LIMITS.forEach(function (limit) {
      var value = state.limits && state.limits[limit[0]];
      if (value === null || value === undefined) { return; }
      var item = document.createElement("li");
      item.className = "limit-line-" + limit[2];
      item.dataset.limit = limit[0];
      item.textContent = limit[1] + " " + value + (el.dataset.unit ? " " + el.dataset.unit : "");
      limitList.appendChild(item);
    });
  }

  function render() {
    var xs = state.data[0];
    var made = state.plot && state.plot.series.length === state.data.length;
    if (made) {
      state.plot.setData(state.data);
    } else {
      if (state.plot) { state.plot.destroy(); }
      state.plot = new uPlot(options(), state.data, el);
    }
    el.dataset.points = String(xs.length);
    el.dataset.mode = state.mode;
    el.dataset.lastTime = xs.length ? iso(xs[xs.length - 1]) : "";
    el.dataset.lastValue = xs.length ? String(state.data[1][xs.length - 1]) : "";
    var what = state.mode === "raw" ? xs.length + " points"
      : xs.length + " buckets of " + state.bucketS + " s (avg line, min-max band)";
    status.textContent = what + ", updated " + clock(state.end);
    showLimits();
  }

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, ms);
  }

  function failed(error) {
    status.textContent = "Chart not updating: " + error.message + ". Retrying.";
    schedule(RETRY_MS);
  }

  function adopt(answer) {
    state.limits = answer.limits;
    state.end = seconds(answer.until);
    state.start = state.end - state.range;
  }

  // The whole window again: at the start, on a change of range, and for bucketed windows.
  function load() {
    var generation = ++state.generation;
    fetchSeries(Date.now() / 1000 - state.range).then(function (answer) {
      if (generation !== state.generation) { return; }
      adopt(answer);
      state.mode = answer.mode;
      state.bucketS = answer.bucket_s;
      state.data = columns(answer);
      render();
      schedule(state.mode === "raw" ? POLL_MS : Math.max(POLL_MS, state.bucketS * 1000));
    }).catch(failed);
  }

  // Raw points newer than the last one shown are appended; those out of the window dropped.
  function poll() {
    if (state.mode !== "raw" || !state.data) { load(); return; }
    var generation = state.generation;
    var xs = state.data[0];
    var last = xs.length ? xs[xs.length - 1] : state.end - state.range;
    fetchSeries(last).then(function (answer) {
      if (generation !== state.generation) { return; }
      if (answer.mode !== "raw") { load(); return; }
      adopt(answer);
      answer.points.forEach(function (p) {
        var x = seconds(p.time);
        if (x > last) { state.data[0].push(x); state.data[1].push(p.value); last = x; }
      });
      var old = 0;
      while (old < state.data[0].length && state.data[0][old] < state.start) { old++; }
      state.data = [state.data[0].slice(old), state.data[1].slice(old)];
      if (state.data[0].length > maxPoints()) { load(); return; }
      render();
      schedule(POLL_MS);
    }).catch(failed);
  }

  document.querySelectorAll(".range-button").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll(".range-button").forEach(function (other) {
        other.setAttribute("aria-pressed", other === button ? "true" : "false");
      });
      state.range = Number(button.dataset.rangeS);
      el.dataset.rangeS = button.dataset.rangeS;
      status.textContent = "Loading…";
      clearTimeout(state.timer);
      load();
    });
  });

  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      if (state.plot) { state.plot.setSize({width: el.clientWidth, height: HEIGHT}); }
    }).observe(el);
  }

  load();
})();
