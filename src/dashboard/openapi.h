// The dashboard API's self-description (OpenAPI 3.1) for /openapi.json, generated from the route
// table (routes.h): every route, every query parameter with its allowed values, the answers'
// schemas and error statuses. Pure function; thread-safe.
#pragma once

#include <span>
#include <string>

namespace pinpipe::dashboard {

// `auth_required`: /api routes need a bearer token. `topics`: the values of the peek's `topic`.
std::string BuildDashboardOpenApi(bool auth_required, std::span<const std::string> topics);

}  // namespace pinpipe::dashboard
