// `pinpipe serving ensure`: the serving layer in PostgreSQL (src/serving/serving_schema.h): the
// speed-layer, batch and scheduler tables, the schema serving (boundary, merged views, layer
// counts, reconciliation, the analytics questions) and the SELECT-only reader role, in one
// database. Idempotent. docs/design.md, "Serving layer".
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "command.h"
#include "log/logger.h"
#include "serving/merged_views.h"
#include "serving/serving_schema.h"
#include "transform/transform.h"

namespace pinpipe::app {
namespace {

struct ServingFlags {
  serving::ServingOptions options;
  std::string reader_role = "pinpipe_reader";
  bool no_reader = false;
  bool reader_login = false;
  std::string reader_password;
  std::string reader_password_file;
  std::string transform_file;
};

const log::Logger kServingLog("serving");

int FailServing(const std::string& message, int code) {
  return CommandError("serving", message, code);
}

int RunEnsure(ServingFlags f) {
  std::shared_ptr<const transform::Transform> transform = transform::Transform::Default();
  if (!f.transform_file.empty()) {
    auto loaded = transform::Transform::FromFile(f.transform_file);
    if (!loaded.ok()) return FailServing(loaded.status().ToString(), 2);
    transform = *loaded;
  }
  if (f.no_reader) {
    f.options.reader.reset();
  } else {
    serving::ReaderRoleOptions reader;
    reader.name = f.reader_role;
    reader.login = f.reader_login;
    if (!f.reader_password_file.empty()) {
      std::ifstream in(f.reader_password_file);
      std::string password;
      if (!in || !std::getline(in, password)) {
        return FailServing("cannot read --reader-password-file " + f.reader_password_file, 2);
      }
      while (!password.empty() && (password.back() == '\r' || password.back() == ' ')) {
        password.pop_back();
      }
      reader.password = password;
    } else if (!f.reader_password.empty()) {
      reader.password = f.reader_password;
    }
    f.options.reader = reader;
  }

  auto report = serving::EnsureServing(f.options, transform);
  if (!report.ok()) return FailServing(report.status().ToString(), 1);
  // Its outcome is a log line, like every other line of the run command's logs.
  kServingLog.Info(
      "schema {} ready{}: boundary {} ({} batch day(s) loaded and sealed); views "
      "serving.boundary, serving.layer_days, serving.reconciliation, serving.pins/geo/users, "
      "serving.q1_... (also as functions with filters)",
      serving::kSchema, report->created_database ? " (database created)" : "",
      report->boundary.value_or("none (every row from the speed layer)"), report->batch_days);
  if (f.options.reader) {
    const serving::ReaderRoleOptions& r = *f.options.reader;
    kServingLog.Info("reader role {} ({}), SELECT on schemas public, batch, serving, scheduler",
                     r.name,
                     r.password ? "LOGIN with password"
                     : r.login  ? "LOGIN"
                                : "NOLOGIN: SET ROLE, or --reader-login");
  }
  return 0;
}

CommandRegistration kServing(
    "serving",
    "The serving layer in PostgreSQL: merged batch + speed views, the analytics questions over "
    "them, and a SELECT-only reader role",
    [](CLI::App& sub) {
      auto f = std::make_shared<ServingFlags>();
      sub.require_subcommand(1);
      sub.add_option("--pg-dsn", f->options.pg_dsn,
                     "PostgreSQL conninfo of the pipeline's database (the speed layer's, batch and "
                     "scheduler tables and the serving views; created if missing)")
          ->envname("PINPIPE_SERVING_PG_DSN")
          ->capture_default_str();
      sub.add_option("--reader-role", f->reader_role,
                     "Name of the SELECT-only role for readers such as the dashboard")
          ->envname("PINPIPE_SERVING_READER_ROLE")
          ->capture_default_str();
      sub.add_flag("--no-reader", f->no_reader, "Do not create or update the reader role")
          ->envname("PINPIPE_SERVING_NO_READER");
      sub.add_flag("--reader-login", f->reader_login,
                   "Let the reader role log in (default NOLOGIN: it is then used through SET "
                   "ROLE); a password implies it")
          ->envname("PINPIPE_SERVING_READER_LOGIN");
      sub.add_option(
             "--reader-password", f->reader_password,
             "Password of the reader role (implies --reader-login; hashed before it is sent)")
          ->envname("PINPIPE_SERVING_READER_PASSWORD");
      sub.add_option("--reader-password-file", f->reader_password_file,
                     "Read the reader role's password from this file (first line)")
          ->envname("PINPIPE_SERVING_READER_PASSWORD_FILE");
      sub.add_option("--transform-file", f->transform_file,
                     "Transform rules (TOML); default: the built-in transforms/pinterest.toml")
          ->envname("PINPIPE_TRANSFORM_FILE");
      CLI::App* ensure = sub.add_subcommand(
          "ensure",
          "Create (if missing) the speed-layer, batch and scheduler tables; (re)create the "
          "serving views and functions; create or update the reader role");
      ensure->fallthrough();
      return CommandRunner([f, ensure] {
        if (ensure->parsed()) return RunEnsure(*f);
        return 2;
      });
    });

}  // namespace
}  // namespace pinpipe::app
