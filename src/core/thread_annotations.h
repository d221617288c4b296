// Clang thread-safety annotations (-Wthread-safety, the clang-tsa preset and scripts/test's
// check): GUARDED_BY(mu) on a field guarded by a mutex, REQUIRES(mu) on a function that expects
// the caller to hold it, ACQUIRE/RELEASE on functions that take or drop it. The capability types
// are core::Mutex and core::MutexLock (core/mutex.h); std::mutex carries no attributes in
// libstdc++. Under GCC every macro expands to nothing. The rule (docs/design.md, "Build and style
// checks"): every field a mutex guards says so, and a lambda run under the lock (a wait predicate)
// says REQUIRES(mu).
#pragma once

#if defined(__clang__)
#define PINPIPE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PINPIPE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) PINPIPE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY PINPIPE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) PINPIPE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) PINPIPE_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) PINPIPE_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) PINPIPE_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) PINPIPE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PINPIPE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PINPIPE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) PINPIPE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) PINPIPE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) PINPIPE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) PINPIPE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PINPIPE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) \
  PINPIPE_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) PINPIPE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) PINPIPE_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) PINPIPE_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS PINPIPE_THREAD_ANNOTATION(no_thread_safety_analysis)
