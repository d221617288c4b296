// JSON encoding of source rows as the emulator POSTs them: field names and order as in the
// source tables (DATA_FACTS.md), strings byte-exact (only what JSON requires is escaped),
// numbers bare, timestamps "YYYY-MM-DD HH:MM:SS" (strings through core::AppendJsonString, the
// project's one escaper). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "emulate/synthetic.h"

namespace pinpipe::emulate {

std::string PinJson(const PinRow& pin);     // all 12 fields, incl. poster_name
std::string GeoJson(const GeoRow& geo);     // ind, timestamp, latitude, longitude, country
std::string UserJson(const UserRow& user);  // ind, first_name, last_name, age, date_joined

}  // namespace pinpipe::emulate
