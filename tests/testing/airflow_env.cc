#include "testing/airflow_env.h"

#include <unistd.h>

#include <cstdlib>

namespace pinpipe::testing {

std::string AirflowPython::airflow() const {
  const size_t slash = python.rfind('/');
  return (slash == std::string::npos ? std::string() : python.substr(0, slash + 1)) + "airflow";
}

AirflowPython FindAirflowPython(const std::string& source_dir) {
  AirflowPython out;
  const char* configured = std::getenv("PINPIPE_TEST_AIRFLOW_PYTHON");
  const bool set = configured != nullptr && *configured != '\0';
  out.python = set ? std::string(configured) : source_dir + "/.pinpipe/airflow-venv/bin/python";
  if (access(out.python.c_str(), X_OK) == 0) return out;
  if (set) {
    out.error = "PINPIPE_TEST_AIRFLOW_PYTHON=" + out.python +
                " is not an executable (scripts/setup --airflow installs Apache Airflow there)";
  } else {
    out.skip = true;
    out.error = "no Apache Airflow venv at " + out.python +
                " and PINPIPE_TEST_AIRFLOW_PYTHON is not set (scripts/setup --airflow installs it; "
                "scripts/test sets the variable)";
  }
  return out;
}

}  // namespace pinpipe::testing
