// EventHub: the clients of /api/events (server-sent events). Each subscriber is the StreamSink
// of one streaming HTTP response; Broadcast() sends every one of them
//   event: refresh
//   data: {"version":<n>,"generated_at":"<RFC 3339>"}
// and KeepAlive() a comment line (": keep-alive") to those that got nothing for `keep_alive`, so
// proxies and browsers keep the connection. A subscriber whose connection is gone (or that does
// not read: the server closes it when its queue passes its limit) is dropped at the next send.
// At most `max_subscribers` at once: Add() refuses more.
//
// Thread-safety: every method from any thread (one mutex; sends only queue bytes).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "http/server.h"

namespace pinpipe::dashboard {

class EventHub {
 public:
  using Clock = std::chrono::steady_clock;
  EventHub(size_t max_subscribers, std::chrono::milliseconds keep_alive,
           std::chrono::milliseconds retry);

  // Subscribes `sink` and sends it the reconnection delay and the latest event (if any).
  // False (nothing kept) when max_subscribers are subscribed.
  bool Add(std::shared_ptr<http::StreamSink> sink);
  bool Full() const;
  void Broadcast(uint64_t version, const std::string& generated_at);
  void KeepAlive(Clock::time_point now);
  // Closes every stream (shutdown).
  void CloseAll();

  size_t subscribers() const;
  uint64_t events_sent() const;

  // The text of one refresh event.
  static std::string RefreshEvent(uint64_t version, const std::string& generated_at);

 private:
  struct Subscriber {
    std::shared_ptr<http::StreamSink> sink;
    Clock::time_point last_sent;
  };
  const size_t max_subscribers_;
  const std::chrono::milliseconds keep_alive_;
  const std::chrono::milliseconds retry_;
  mutable core::Mutex mu_;
  // Guarded by mu_:
  std::vector<Subscriber> subscribers_ GUARDED_BY(mu_);
  std::string last_event_ GUARDED_BY(mu_);
  uint64_t events_sent_ GUARDED_BY(mu_) = 0;
};

}  // namespace pinpipe::dashboard
