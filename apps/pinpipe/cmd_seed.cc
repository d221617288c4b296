// `pinpipe seed`: creates the source database and tables and loads the synthetic data set.
#include <iostream>

#include "command.h"
#include "emulate/seeder.h"
#include "log/logger.h"

namespace pinpipe::app {
namespace {

const log::Logger kSeedLog("seed");

struct SeedFlags {
  std::string dsn = "host=127.0.0.1 port=15432 user=pinpipe dbname=pinterest";
  int32_t rows = 11000;
  uint64_t seed = 42;
  bool reset = false;
};

CommandRegistration kSeed(
    "seed", "Create and load the source tables (pinterest_data, geolocation_data, user_data)",
    [](CLI::App& sub) {
      auto flags = std::make_shared<SeedFlags>();  // shared: outlives setup, used by the runner
      sub.add_option("--pg-dsn", flags->dsn, "libpq conninfo of the source database")
          ->envname("PINPIPE_SOURCE_PG_DSN")
          ->capture_default_str();
      sub.add_option("--rows", flags->rows, "posts to generate")
          ->envname("PINPIPE_SEED_ROWS")
          ->check(CLI::Range(1, 10'000'000))
          ->capture_default_str();
      sub.add_option("--seed", flags->seed, "random seed of the synthetic data set")
          ->envname("PINPIPE_SEED")
          ->capture_default_str();
      sub.add_flag("--reset", flags->reset, "reload even if already seeded")
          ->envname("PINPIPE_SEED_RESET");
      return CommandRunner([flags] {
        emulate::SeedOptions options{flags->dsn, flags->rows, flags->seed, flags->reset};
        auto report = emulate::SeedSourceTables(options);
        if (!report.ok()) {
          kSeedLog.Error("seed failed: {}", report.status().ToString());
          return 1;
        }
        if (report->created_database) std::cout << "created database " << report->database << "\n";
        if (report->loaded) {
          std::cout << "loaded " << report->pin_rows << " pinterest_data, " << report->geo_rows
                    << " geolocation_data, " << report->user_rows << " user_data rows (seed "
                    << flags->seed << ") into " << report->database << " in " << report->seconds
                    << " s\n";
        } else {
          std::cout << "already seeded: " << report->database << " holds " << flags->rows
                    << " rows per table from seed " << flags->seed
                    << "; nothing to do (--reset reloads)\n";
        }
        return 0;
      });
    });

}  // namespace
}  // namespace pinpipe::app
