/* Draws the overview charts from #overview-data with Chart.js (served by the console itself). */
(function () {
  'use strict';
  var holder = document.getElementById('overview-data');
  if (!holder || typeof Chart === 'undefined') return;
  var data = JSON.parse(holder.getAttribute('data-json'));
  var colors = { SUCCESS: '#2e7d32', FAILED: '#c62828', PENDING: '#f9a825', UNKNOWN: '#6a1b9a', SENDING: '#1565c0', RECEIVED: '#78909c' };
  var common = { animation: false, responsive: true, maintainAspectRatio: false };
  new Chart(document.getElementById('chart-counts'), {
    type: 'bar',
    data: {
      labels: data.labels,
      datasets: data.states.map(function (s) {
        return { label: s.label, data: s.counts, backgroundColor: colors[s.state] };
      }),
    },
    options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }),
  });
  new Chart(document.getElementById('chart-failures'), {
    type: 'line',
    data: { labels: data.labels, datasets: [{ label: data.text.failureRate, data: data.failureRate, borderColor: colors.FAILED, spanGaps: true }] },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true, suggestedMax: 10 } } }),
  });
  new Chart(document.getElementById('chart-latency'), {
    type: 'line',
    data: {
      labels: data.labels,
      datasets: [
        { label: 'p50', data: data.p50, borderColor: '#1565c0', spanGaps: true },
        { label: 'p95', data: data.p95, borderColor: '#ef6c00', spanGaps: true },
      ],
    },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }),
  });
})();
