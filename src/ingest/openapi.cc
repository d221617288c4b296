#include "ingest/openapi.h"

#include <fmt/format.h>

#include "core/record_schema.h"
#include "core/record_validator.h"

namespace pinpipe::ingest {
namespace {

using core::FieldSpec;
using core::FieldType;
using core::RecordKind;
using core::SchemaFor;

std::string Quote(std::string_view s) {
  std::string out;
  core::AppendJsonString(s, &out);
  return out;
}

std::string FieldSchemaJson(const FieldSpec& f) {
  switch (f.type) {
    case FieldType::kInt:
      return fmt::format(R"({{"type":"integer","minimum":{},"maximum":{}}})",
                         static_cast<long long>(f.min), static_cast<long long>(f.max));
    case FieldType::kNumber:
      return fmt::format(R"({{"type":"number","minimum":{},"maximum":{}}})", f.min, f.max);
    case FieldType::kUuid: return R"({"type":"string","format":"uuid"})";
    case FieldType::kTimestamp:
      return R"({"type":"string","format":"date-time","description":"YYYY-MM-DD HH:MM:SS or ISO 8601 with T"})";
    case FieldType::kString: return R"({"type":"string"})";
  }
  return "{}";
}

std::string_view TypeName(FieldType t) {
  switch (t) {
    case FieldType::kInt: return "integer";
    case FieldType::kNumber: return "number";
    case FieldType::kUuid: return "string (UUID)";
    case FieldType::kTimestamp: return "timestamp (YYYY-MM-DD HH:MM:SS or ISO 8601)";
    case FieldType::kString: return "string";
  }
  return "";
}

std::string KindSchemaJson(RecordKind kind) {
  const auto& schema = SchemaFor(kind);
  std::string props, required;
  for (const auto& f : schema.fields) {
    if (!props.empty()) props += ',';
    props += Quote(f.name) + ":" + FieldSchemaJson(f);
    if (f.required) {
      if (!required.empty()) required += ',';
      required += Quote(f.name);
    }
  }
  return fmt::format(
      R"({{"type":"object","additionalProperties":false,"properties":{{{}}},"required":[{}]}})",
      props, required);
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string BuildOpenApiJson(const ApiDescription& api) {
  std::string paths;
  std::string security = api.auth_required ? R"(,"security":[{"bearer":[]}])" : "";
  for (RecordKind kind : core::kAllRecordKinds) {
    std::string name(core::RecordKindName(kind));
    std::string ref = fmt::format(R"({{"$ref":"#/components/schemas/{}"}})", name);
    if (!paths.empty()) paths += ',';
    paths += fmt::format(
        R"("/{0}/":{{"post":{{"summary":"Ingest one {0} record","operationId":"post_{0}"{1},)"
        R"("requestBody":{{"required":true,"content":{{"application/json":{{"schema":{2}}}}}}},)"
        R"("responses":{{"200":{{"description":"Acknowledged by Kafka (acks=all); the validated record","content":{{"application/json":{{"schema":{2}}}}}}},)"
        R"("401":{{"description":"Missing or wrong bearer token"}},)"
        R"("413":{{"description":"Body over {3} bytes"}},)"
        R"("422":{{"description":"Validation error","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/HTTPValidationError"}}}}}}}},)"
        R"("503":{{"description":"Kafka unavailable, producer queue full or server busy (not stored), or no acknowledgement within the delivery timeout (may be stored: a retry may duplicate it); retry after Retry-After seconds"}}}}}}}},)"
        R"("/batch/{0}":{{"post":{{"summary":"Ingest many {0} records: NDJSON or a JSON array","operationId":"batch_{0}"{1},)"
        R"("requestBody":{{"required":true,"content":{{"application/x-ndjson":{{"schema":{{"type":"string"}}}},"application/json":{{"schema":{{"type":"array","items":{2}}}}}}}}},)"
        R"("responses":{{"200":{{"description":"Per-item results: position, status (200/413/422/503), detail","content":{{"application/json":{{"schema":{{"$ref":"#/components/schemas/BatchResult"}}}}}}}},)"
        R"("413":{{"description":"Body over {4} bytes or more than {5} items"}},)"
        R"("422":{{"description":"Body is not NDJSON nor a JSON array"}}}}}}}})",
        name, security, ref, api.max_record_bytes, api.max_bulk_bytes, api.max_bulk_items);
  }
  paths +=
      R"(,"/healthz":{"get":{"summary":"Process is up","responses":{"200":{"description":"OK"}}}})";
  paths +=
      R"(,"/readyz":{"get":{"summary":"Kafka reachable","responses":{"200":{"description":"Ready"},"503":{"description":"Kafka not reachable"}}}})";
  paths +=
      R"(,"/metrics":{"get":{"summary":"Prometheus metrics","responses":{"200":{"description":"text/plain; version=0.0.4"}}}})";

  std::string schemas;
  for (RecordKind kind : core::kAllRecordKinds) {
    if (!schemas.empty()) schemas += ',';
    schemas += Quote(core::RecordKindName(kind)) + ":" + KindSchemaJson(kind);
  }
  schemas +=
      R"(,"ValidationError":{"type":"object","required":["loc","msg","type"],"properties":{"loc":{"type":"array","items":{"anyOf":[{"type":"string"},{"type":"integer"}]}},"msg":{"type":"string"},"type":{"type":"string"}}})"
      R"(,"HTTPValidationError":{"type":"object","properties":{"detail":{"type":"array","items":{"$ref":"#/components/schemas/ValidationError"}}}})"
      R"(,"BatchResult":{"type":"object","properties":{"accepted":{"type":"integer"},"rejected":{"type":"integer"},"failed":{"type":"integer"},"results":{"type":"array","items":{"type":"object","properties":{"position":{"type":"integer"},"status":{"type":"integer"},"detail":{}}}}}})";
  std::string security_schemes =
      R"(,"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}})";
  return fmt::format(
      R"({{"openapi":"3.1.0","info":{{"title":"pinpipe ingestion API","version":"0.1.0",)"
      R"("description":"Validates Pinterest-style records and acknowledges them only once Kafka has them (acks=all, idempotent producer)."}},)"
      R"("paths":{{{}}},"components":{{"schemas":{{{}}}{}}}}})",
      paths, schemas, security_schemes);
}

std::string BuildDocsHtml(const ApiDescription& api) {
  std::string body;
  for (RecordKind kind : core::kAllRecordKinds) {
    const auto& schema = SchemaFor(kind);
    std::string name(schema.name);
    body +=
        fmt::format("<h2><code>POST /{0}/</code> and <code>POST /batch/{0}</code></h2>\n", name);
    body += fmt::format(
        "<p>One <b>{0}</b> record (source table <code>{1}</code>). Kafka key: <code>{2}</code>. "
        "Fields may come in any order; unknown fields are rejected.</p>\n<table><tr><th>field</th>"
        "<th>type</th><th>required</th><th>range</th></tr>\n",
        name, schema.source_table, schema.key_field);
    for (const auto& f : schema.fields) {
      std::string range;
      if (f.type == FieldType::kInt || f.type == FieldType::kNumber) {
        range = fmt::format("{} .. {}", f.min, f.max);
      }
      body += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          HtmlEscape(f.name), HtmlEscape(TypeName(f.type)),
                          f.required ? "yes" : "no", range);
    }
    body += "</table>\n";
  }
  return fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pinpipe ingestion API</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}} td,th{{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}}
th{{background:#f3f3f3}} pre{{background:#f6f8fa;padding:.8rem;overflow:auto}} code{{font-size:.95em}}
</style></head><body>
<h1>pinpipe ingestion API</h1>
<p>Every record is validated against its schema, produced to Kafka with <code>acks=all</code> by an
idempotent producer, and answered <b>only after Kafka confirmed it</b>. Machine-readable description:
<a href="/openapi.json">/openapi.json</a>. Metrics: <a href="/metrics">/metrics</a>.
Health: <a href="/healthz">/healthz</a>, readiness (Kafka reachable): <a href="/readyz">/readyz</a>.</p>
<h2>Answers</h2>
<table>
<tr><th>status</th><th>meaning</th></tr>
<tr><td>200</td><td>Kafka has the record; the body is the validated record.</td></tr>
<tr><td>401</td><td>Authentication is on{auth} and the <code>Authorization: Bearer</code> token is missing or wrong.</td></tr>
<tr><td>404 / 405</td><td>Unknown path / wrong method.</td></tr>
<tr><td>413</td><td>Body larger than {rec} bytes (single record, and each record of a bulk request) or {bulk} bytes (bulk request); refused from its <code>Content-Length</code>, before it is read.</td></tr>
<tr><td>422</td><td>Validation failed: <code>{{"detail":[{{"loc":["body","field"],"msg":"...","type":"..."}}]}}</code>, as FastAPI answers.</td></tr>
<tr><td>503</td><td>Kafka is unreachable, the producer queue is full or the server is buffering too many bodies: nothing was stored. Or Kafka did not acknowledge within the delivery timeout: the record may be stored, and a retry may duplicate it (the pipeline removes duplicates by <code>unique_id</code>). Retry after <code>Retry-After</code> seconds.</td></tr>
</table>
<h2>Bulk requests</h2>
<p><code>POST /batch/&lt;kind&gt;</code> takes NDJSON (one record per line) or a JSON array, at most {items} items.
The answer lists every item: <code>{{"accepted":2,"rejected":1,"failed":0,"results":[{{"position":0,"status":200}},{{"position":1,"status":422,"detail":[...]}},...]}}</code>;
retry only the items whose status is not 200.</p>
<pre>curl -s localhost:8000/pin/ -H 'Content-Type: application/json' -d @record.json
curl -s localhost:8000/batch/pin -H 'Content-Type: application/x-ndjson' --data-binary @records.ndjson</pre>
{body}
</body></html>
)",
                     fmt::arg("auth", api.auth_required ? "" : " (it is off on this server)"),
                     fmt::arg("rec", api.max_record_bytes), fmt::arg("bulk", api.max_bulk_bytes),
                     fmt::arg("items", api.max_bulk_items), fmt::arg("body", body));
}

}  // namespace pinpipe::ingest
