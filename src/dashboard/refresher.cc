#include "dashboard/refresher.h"

#include <cstdio>
#include <exception>
#include <utility>

#include "core/civil_day.h"
#include "core/elapsed.h"
#include "core/mutex.h"
#include "log/logger.h"

namespace pinpipe::dashboard {
namespace {

const log::Logger kDashboardLog("dashboard");

using Clock = std::chrono::steady_clock;

}  // namespace

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return core::IsoTime(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

Refresher::Refresher(RefresherOptions options, AnswerCache* cache, RefresherHooks hooks)
    : options_(options), cache_(cache), hooks_(std::move(hooks)) {
  for (const RefreshStep& step : hooks_.steps) stats_.steps.push_back({step.name});
}

Refresher::~Refresher() { Stop(); }

void Refresher::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(std::move(stop)); });
}

void Refresher::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

Refresher::Stats Refresher::stats() const {
  core::MutexLock lock(stats_mu_);
  return stats_;
}

Answer ComputeAnswer(const ComputeFn& compute, const Query& query) {
  Answer answer;
  const std::string generated_at = Rfc3339(std::chrono::system_clock::now());
  try {
    answer = compute(query, generated_at);
  } catch (const std::exception& e) {
    kDashboardLog.Log(log::Level::kError, "computing an answer threw",
                      {{"query", query.key}, {"what", e.what()}});
    answer = Answer{};
    answer.status = 500;
    answer.body = R"({"detail":"internal error while computing this answer"})";
  }
  answer.generated_at = generated_at;
  return answer;
}

void Refresher::ComputeAndPublish(const Query& query) {
  Answer answer = ComputeAnswer(hooks_.compute, query);
  {
    core::MutexLock lock(stats_mu_);
    ++stats_.computations;
  }
  cache_->Publish(query, std::make_shared<const Answer>(std::move(answer)));
}

void Refresher::ServePending() {
  for (;;) {
    std::vector<Query> pending = cache_->TakePending();
    if (pending.empty()) return;
    for (const Query& q : pending) ComputeAndPublish(q);
  }
}

void Refresher::Cycle(std::stop_token stop) {
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < hooks_.steps.size() && !stop.stop_requested(); ++i) {
    const Clock::time_point step_start = Clock::now();
    try {
      hooks_.steps[i].run();
    } catch (const std::exception& e) {
      kDashboardLog.Log(log::Level::kError, "refresh step threw",
                        {{"step", hooks_.steps[i].name}, {"what", e.what()}});
    }
    const double seconds = core::SecondsSince(step_start);
    {
      core::MutexLock lock(stats_mu_);
      StepStats& s = stats_.steps[i];
      ++s.runs;
      s.last_seconds = seconds;
      s.total_seconds += seconds;
    }
    ServePending();
  }
  const Clock::time_point now = Clock::now();
  for (const Query& q : cache_->LiveQueries(now - options_.keep_for)) ComputeAndPublish(q);
  cache_->Evict(now - options_.keep_for);
  uint64_t cycle = 0;
  {
    core::MutexLock lock(stats_mu_);
    cycle = ++stats_.cycles;
    stats_.last_cycle_seconds = core::SecondsSince(start);
  }
  if (hooks_.after_cycle) hooks_.after_cycle(cycle, Rfc3339(std::chrono::system_clock::now()));
}

void Refresher::Run(std::stop_token stop) {
  Clock::time_point next = Clock::now();
  while (!stop.stop_requested()) {
    if (Clock::now() >= next) {
      const Clock::time_point started = Clock::now();
      Cycle(stop);
      // The next cycle starts one interval after this one started; a cycle longer than the
      // interval is followed at once by the next (no backlog builds up: one at a time).
      next = std::max(started + options_.interval, Clock::now());
    }
    ServePending();
    cache_->WaitForPending(stop, next);
  }
}

}  // namespace pinpipe::dashboard
