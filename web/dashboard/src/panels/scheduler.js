// Scheduler (issue 12, section 2 item 8): runs per day with their task states, tries, durations,
// SLA misses, backfill progress, and each task's log (text, fetched on demand).
import { h, replace } from '../dom.js';
import { fmtNumber } from '../format.js';
import { getText } from '../api.js';
import { Panel, stat } from '../panel.js';
import { dataTable } from '../table.js';
import * as urlState from '../state.js';

const STATE_CLASS = {
  success: 'state ok', failed: 'state bad', upstream_failed: 'state bad', running: 'state info', queued: 'state info',
  up_for_retry: 'state warn', skipped: 'state muted', scheduled: 'state muted',
};

function stateClass(value) {
  return typeof value === 'string' ? STATE_CLASS[value] || 'state muted' : null;
}

function runsPerDay(runs) {
  const days = new Map();
  for (const run of runs) {
    const day = String(run.logical_date || '').slice(0, 10);
    const d = days.get(day) || { runs: 0, success: 0, failed: 0, running: 0, other: 0, sla: 0 };
    d.runs += 1;
    if (run.state === 'success') d.success += 1;
    else if (run.state === 'failed') d.failed += 1;
    else if (run.state === 'running' || run.state === 'queued') d.running += 1;
    else d.other += 1;
    if (run.sla_missed) d.sla += 1;
    days.set(day, d);
  }
  return [...days.entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1))
    .map(([day, d]) => [day, d.runs, d.success, d.failed, d.running, d.other, d.sla]);
}

export function schedulerPanel() {
  const panel = new Panel({ id: 'scheduler', title: 'Scheduler', wide: true });
  let selected = null; // run_id + dag_id of the run whose tasks are shown
  let lastData = null;
  const logBox = h('div', { class: 'log-box', testid: 'task-log-box', hidden: true });

  async function showLog(run, task, attempt) {
    logBox.hidden = false;
    const title = `Log of ${run.dag_id} / ${run.run_id} / ${task.task_id}, try ${attempt}`;
    const pre = h('pre', { class: 'log', testid: 'task-log', tabindex: '0' }, 'Loading…');
    replace(logBox,
      h('div', { class: 'log-head' }, h('h3', null, title),
        h('button', { type: 'button', class: 'small', onclick: () => { logBox.hidden = true; } }, 'Close log')),
      pre);
    try {
      const text = await getText('/api/scheduler/log', { dag_id: run.dag_id, run_id: run.run_id, task_id: task.task_id, try: attempt });
      pre.textContent = text || '(empty log)';
    } catch (e) {
      pre.textContent = `Could not load the log: ${e.message}`;
      pre.classList.add('error-text');
    }
    pre.focus();
  }

  function render(data) {
    const runs = [...(data.runs || [])].sort((a, b) => (String(a.logical_date) < String(b.logical_date) ? 1 : -1));
    let run = runs.find((r) => selected && r.run_id === selected.run_id && r.dag_id === selected.dag_id);
    if (!run) run = runs[0] || null;
    const backfill = data.backfill || { total: 0, done: 0, running: 0, failed: 0 };
    const progress = h('progress', { max: String(Math.max(1, backfill.total)), value: String(backfill.done), testid: 'backfill-progress', 'aria-label': 'backfill progress' });
    const tasks = run ? run.tasks || [] : [];
    replace(panel.body,
      h('div', { class: 'stats compact' },
        stat('DAGs', fmtNumber((data.dags || []).length), 'scheduler-dags'),
        stat('Runs shown', fmtNumber(runs.length), 'scheduler-runs'),
        stat('SLA misses', fmtNumber(data.sla_misses), 'scheduler-sla', data.sla_misses > 0 ? '⚠ runs finished late' : null),
        h('div', { class: 'stat', testid: 'scheduler-backfill' },
          h('div', { class: 'stat-label' }, 'Backfill'), progress,
          h('div', { class: 'stat-hint muted' },
            `${fmtNumber(backfill.done)} of ${fmtNumber(backfill.total)} days done, ${fmtNumber(backfill.running)} running, ${fmtNumber(backfill.failed)} failed`))),
      h('div', { class: 'grid-2' },
        dataTable({
          testid: 'table-scheduler-days', caption: 'Runs per day', filename: 'scheduler_runs_per_day.csv',
          columns: ['day', 'runs', 'success', 'failed', 'running', 'other', 'sla_missed'], rows: runsPerDay(runs),
          cellClass: (c, v) => ((c === 3 || c === 6) && v > 0 ? 'warn-text' : null), empty: 'No runs in this range.',
        }),
        dataTable({
          testid: 'table-scheduler-dags', caption: 'DAGs', filename: 'scheduler_dags.csv',
          columns: ['dag_id', 'paused', 'schedule'], rows: (data.dags || []).map((d) => [d.dag_id, d.paused, d.schedule]),
          empty: 'No DAGs.',
        })),
      dataTable({
        testid: 'table-scheduler-runs', caption: 'Runs', filename: 'scheduler_runs.csv', tall: true,
        columns: ['dag_id', 'run_id', 'logical_date', 'state', 'started_at', 'ended_at', 'sla_missed'],
        rows: runs.map((r) => [r.dag_id, r.run_id, r.logical_date, r.state, r.started_at, r.ended_at, r.sla_missed]),
        cellClass: (c, v) => (c === 3 ? stateClass(v) : c === 6 && v ? 'warn-text' : null),
        extras: [{
          header: 'tasks',
          render: (row, i) => h('button', {
            type: 'button', class: 'small', 'aria-pressed': String(run === runs[i]), testid: 'run-tasks-button',
            onclick: () => { selected = { dag_id: runs[i].dag_id, run_id: runs[i].run_id }; render(lastData); },
          }, run === runs[i] ? 'shown' : 'show'),
        }],
        empty: 'No runs in this range.',
      }),
      run ? dataTable({
        testid: 'table-scheduler-tasks', caption: `Tasks of ${run.dag_id} / ${run.run_id}`, filename: 'scheduler_tasks.csv',
        columns: ['task_id', 'state', 'tries', 'started_at', 'ended_at', 'duration_s'],
        rows: tasks.map((t) => [t.task_id, t.state, t.tries, t.started_at, t.ended_at, t.duration_s]),
        cellClass: (c, v) => (c === 1 ? stateClass(v) : null),
        extras: [{
          header: 'log',
          render: (row, i) => h('span', { class: 'log-buttons' },
            Array.from({ length: Math.max(0, tasks[i].tries || 0) }, (_, k) => h('button', {
              type: 'button', class: 'small', testid: 'task-log-button',
              'aria-label': `log of ${tasks[i].task_id}, try ${k + 1}`,
              onclick: () => showLog(run, tasks[i], k + 1),
            }, `try ${k + 1}`))),
        }],
        empty: 'This run has no tasks.',
      }) : null,
      logBox);
  }

  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/scheduler', urlState.dayRangeParams(state));
        lastData = data;
        const keepLog = !logBox.hidden;
        render(data);
        if (!keepLog) logBox.hidden = true;
        return data.generated_at;
      });
    },
  };
}
