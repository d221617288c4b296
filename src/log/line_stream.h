// LineStream: an std::ostream whose every line ('\n'-terminated; a rest at destruction too)
// becomes one log line of `logger` at `level`, for code that reports progress to an std::ostream
// (emulate's load and history progress). Not thread-safe: one writer, like any ostream.
#pragma once

#include <ostream>
#include <streambuf>
#include <string>

#include "log/logger.h"

namespace pinpipe::log {

class LineStream : public std::ostream {
 public:
  LineStream(Logger logger, Level level) : std::ostream(&buf_), buf_(std::move(logger), level) {}
  ~LineStream() override { buf_.Emit(); }

 private:
  class Buf : public std::streambuf {
   public:
    Buf(Logger logger, Level level) : logger_(std::move(logger)), level_(level) {}
    void Emit() {
      if (!line_.empty()) logger_.Log(level_, line_);
      line_.clear();
    }

   protected:
    int_type overflow(int_type c) override {
      if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
      if (traits_type::to_char_type(c) == '\n') {
        Emit();
      } else {
        line_.push_back(traits_type::to_char_type(c));
      }
      return c;
    }

   private:
    Logger logger_;
    Level level_;
    std::string line_;
  };
  Buf buf_;
};

}  // namespace pinpipe::log
