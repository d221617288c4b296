// The API's self-description, generated from the record schema tables (never written by hand, so
// it cannot drift from what the validator enforces): an OpenAPI 3.1 document for /openapi.json and
// a self-contained HTML page for /docs (no CDN: it must work on a machine without internet).
#pragma once

#include <string>

namespace pinpipe::ingest {

struct ApiDescription {
  bool auth_required = false;
  size_t max_record_bytes = 0;
  size_t max_bulk_bytes = 0;
  size_t max_bulk_items = 0;
};

std::string BuildOpenApiJson(const ApiDescription& api);
std::string BuildDocsHtml(const ApiDescription& api);

}  // namespace pinpipe::ingest
