// The Apache Airflow venv that integration tests run Airflow with (scripts/setup --airflow).
#pragma once

#include <string>

namespace pinpipe::testing {

struct AirflowPython {
  std::string python;  // the venv's interpreter; its `airflow` command lies beside it
  std::string error;   // set when there is none: skip (run by hand) or fail (under scripts/test)
  bool skip = false;
  std::string airflow() const;  // the `airflow` command of the venv
};

// PINPIPE_TEST_AIRFLOW_PYTHON (scripts/test sets it: a missing or non-executable interpreter is
// then an error, never a skip); without it <source_dir>/.pinpipe/airflow-venv/bin/python if
// that exists, else a skip that says how to get one.
AirflowPython FindAirflowPython(const std::string& source_dir);

}  // namespace pinpipe::testing
