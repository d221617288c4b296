#include "dashboard/event_hub.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/mutex.h"

namespace pinpipe::dashboard {

EventHub::EventHub(size_t max_subscribers, std::chrono::milliseconds keep_alive,
                   std::chrono::milliseconds retry)
    : max_subscribers_(max_subscribers), keep_alive_(keep_alive), retry_(retry) {}

std::string EventHub::RefreshEvent(uint64_t version, const std::string& generated_at) {
  std::string data;
  core::JsonWriter json(&data);
  json.BeginObject().Key("version").Int(static_cast<int64_t>(version));
  json.Key("generated_at").String(generated_at).EndObject();
  return "event: refresh\ndata: " + data + "\n\n";
}

bool EventHub::Add(std::shared_ptr<http::StreamSink> sink) {
  core::MutexLock lock(mu_);
  std::erase_if(subscribers_, [](const Subscriber& s) { return s.sink->closed(); });
  if (subscribers_.size() >= max_subscribers_) return false;
  std::string hello = fmt::format("retry: {}\n\n", retry_.count());
  hello += last_event_;
  if (!sink->Send(std::move(hello))) return true;  // gone already: nothing to keep
  subscribers_.push_back({std::move(sink), Clock::now()});
  return true;
}

bool EventHub::Full() const {
  core::MutexLock lock(mu_);
  size_t open = 0;
  for (const Subscriber& s : subscribers_) open += s.sink->closed() ? 0 : 1;
  return open >= max_subscribers_;
}

void EventHub::Broadcast(uint64_t version, const std::string& generated_at) {
  const std::string event = RefreshEvent(version, generated_at);
  const Clock::time_point now = Clock::now();
  core::MutexLock lock(mu_);
  last_event_ = event;
  std::erase_if(subscribers_, [&](Subscriber& s) REQUIRES(mu_) {
    if (!s.sink->Send(event)) return true;
    s.last_sent = now;
    ++events_sent_;
    return false;
  });
}

void EventHub::KeepAlive(Clock::time_point now) {
  core::MutexLock lock(mu_);
  std::erase_if(subscribers_, [&](Subscriber& s) {
    if (now - s.last_sent < keep_alive_) return s.sink->closed();
    if (!s.sink->Send(": keep-alive\n\n")) return true;
    s.last_sent = now;
    return false;
  });
}

void EventHub::CloseAll() {
  core::MutexLock lock(mu_);
  for (Subscriber& s : subscribers_) s.sink->Close();
  subscribers_.clear();
}

size_t EventHub::subscribers() const {
  core::MutexLock lock(mu_);
  size_t open = 0;
  for (const Subscriber& s : subscribers_) open += s.sink->closed() ? 0 : 1;
  return open;
}

uint64_t EventHub::events_sent() const {
  core::MutexLock lock(mu_);
  return events_sent_;
}

}  // namespace pinpipe::dashboard
