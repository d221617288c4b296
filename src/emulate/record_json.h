// JSON encoding of source rows as the emulator POSTs them: field names and order as in the
// source tables (DATA_FACTS.md), strings byte-exact (only what JSON requires is escaped),
// numbers bare, timestamps "YYYY-MM-DD HH:MM:SS". Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "emulate/synthetic.h"

namespace pinpipe::emulate {

// Appends `text` as a JSON string literal (quotes included). Escapes '"', '\\' and control
// characters; leaves UTF-8 (NBSP, emoji) as is.
void AppendJsonString(std::string& out, std::string_view text);

std::string PinJson(const PinRow& pin);    // all 12 fields, incl. poster_name
std::string GeoJson(const GeoRow& geo);    // ind, timestamp, latitude, longitude, country
std::string UserJson(const UserRow& user); // ind, first_name, last_name, age, date_joined

}  // namespace pinpipe::emulate
