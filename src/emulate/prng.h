// Prng: a small, fully specified pseudo-random generator (SplitMix64 seeding xoshiro256**) with
// its own integer, real and Bernoulli draws.
//
// Why not <random>: std::uniform_int_distribution and friends are implementation-defined, so
// the same seed gives different data sets under libstdc++ and libc++ (or across versions). Here
// every draw is defined in this file, so a seed names one data set everywhere.
// Not thread-safe; cheap to copy.
#pragma once

#include <cstdint>

namespace pinpipe::emulate {

// SplitMix64 step: also a good 64-bit mixing function for hashing (seed, n) pairs.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t state = seed;
    for (auto& word : s_) word = SplitMix64(state);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [lo, hi] (inclusive), unbiased: Lemire's multiply-shift with rejection.
  int64_t Uniform(int64_t lo, int64_t hi) {
    const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    if (range == 0) return static_cast<int64_t>(Next());  // full 64-bit range
    unsigned __int128 product = static_cast<unsigned __int128>(Next()) * range;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < range) {
      const uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        product = static_cast<unsigned __int128>(Next()) * range;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + static_cast<uint64_t>(product >> 64));
  }

  // Uniform index in [0, n), n > 0.
  size_t Index(size_t n) { return static_cast<size_t>(Uniform(0, static_cast<int64_t>(n) - 1)); }

  // Uniform in [0, 1) with 53 random bits.
  double Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool Chance(double p) { return Real() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace pinpipe::emulate
