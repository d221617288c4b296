#include "dashboard/openapi.h"

#include "core/json_writer.h"
#include "dashboard/routes.h"

namespace pinpipe::dashboard {
namespace {

void ParamSchema(const ParamSpec& p, std::span<const std::string> topics, core::JsonWriter& j) {
  j.BeginObject();
  switch (p.kind) {
    case ParamKind::kWindow:
      j.Key("type")
          .String("string")
          .Key("enum")
          .BeginArray()
          .String("5m")
          .String("1h")
          .String("24h")
          .EndArray();
      break;
    case ParamKind::kDay: j.Key("type").String("string").Key("format").String("date"); break;
    case ParamKind::kText: j.Key("type").String("string").Key("maxLength").Int(200); break;
    case ParamKind::kAgeGroup:
      j.Key("type").String("string").Key("enum").BeginArray();
      for (std::string_view g : kAgeGroupNames) j.String(g);
      j.EndArray();
      break;
    case ParamKind::kTopic:
      j.Key("type").String("string").Key("enum").BeginArray();
      for (const std::string& t : topics) j.String(t);
      j.EndArray();
      break;
    case ParamKind::kPartition: j.Key("type").String("integer").Key("minimum").Int(0); break;
    case ParamKind::kLimit:
      j.Key("type").String("integer").Key("minimum").Int(1).Key("maximum").Int(100);
      break;
    case ParamKind::kTry: j.Key("type").String("integer").Key("minimum").Int(1); break;
    case ParamKind::kId: j.Key("type").String("string").Key("maxLength").Int(256); break;
  }
  if (!p.default_value.empty()) {
    if (p.kind == ParamKind::kLimit) {
      j.Key("default").Int(std::stoll(std::string(p.default_value)));
    } else {
      j.Key("default").String(p.default_value);
    }
  }
  j.EndObject();
}

void ErrorResponse(core::JsonWriter& j, std::string_view status, std::string_view description) {
  j.Key(status).BeginObject().Key("description").String(description);
  j.Key("content").BeginObject().Key("application/json").BeginObject().Key("schema");
  j.Raw(R"({"$ref":"#/components/schemas/Error"})");
  j.EndObject().EndObject().EndObject();
}

}  // namespace

std::string BuildDashboardOpenApi(bool auth_required, std::span<const std::string> topics) {
  std::string out;
  core::JsonWriter j(&out);
  j.BeginObject().Key("openapi").String("3.1.0");
  j.Key("info")
      .BeginObject()
      .Key("title")
      .String("pinpipe dashboard API")
      .Key("version")
      .String("1");
  j.Key("description")
      .String(
          "Read-only JSON answers about the running pipeline, computed by one refresher thread per "
          "refresh interval and served from a cache: every client gets the same answer for the "
          "same "
          "parameters. Unknown query parameters are 422; malformed values 400, values not allowed "
          "422; every /api answer has Cache-Control: no-store and X-Pinpipe-Generated-At.");
  j.EndObject();
  j.Key("paths").BeginObject();
  for (const RouteSpec& r : Routes()) {
    j.Key(r.path).BeginObject().Key("get").BeginObject();
    j.Key("summary").String(r.summary);
    if (!r.description.empty()) j.Key("description").String(r.description);
    j.Key("operationId").String(r.path == "/" ? std::string_view("page") : r.path.substr(1));
    if (auth_required && r.api) j.Key("security").Raw(R"([{"bearer":[]}])");
    j.Key("parameters").BeginArray();
    if (r.id == RouteId::kAsset) {
      j.BeginObject()
          .Key("name")
          .String("name")
          .Key("in")
          .String("path")
          .Key("required")
          .Bool(true);
      j.Key("schema").Raw(R"({"type":"string"})").EndObject();
    }
    for (const ParamSpec& p : r.params) {
      j.BeginObject().Key("name").String(p.name).Key("in").String("query");
      j.Key("required").Bool(p.required).Key("description").String(p.description);
      j.Key("schema");
      ParamSchema(p, topics, j);
      j.EndObject();
    }
    j.EndArray();
    j.Key("responses").BeginObject();
    j.Key("200").BeginObject().Key("description").String("OK");
    j.Key("content")
        .BeginObject()
        .Key(r.content_type)
        .BeginObject()
        .Key("schema")
        .Raw(r.response_schema);
    j.EndObject().EndObject().EndObject();
    if (r.api) {
      if (!r.params.empty()) {
        ErrorResponse(j, "400", "A malformed parameter (the detail names it)");
        ErrorResponse(j, "422",
                      "An unknown parameter or a value not allowed (the detail names it)");
      } else {
        ErrorResponse(j, "422", "An unknown parameter");
      }
      if (auth_required) ErrorResponse(j, "401", "Missing or wrong bearer token");
      ErrorResponse(j, "503",
                    "The source of this answer is not reachable yet, or too many different "
                    "requests wait for a first answer");
    }
    if (r.id == RouteId::kAsset || r.id == RouteId::kSchedulerLog) {
      ErrorResponse(j, "404", "No such asset, task or try");
    }
    j.EndObject();
    j.EndObject().EndObject();
  }
  j.EndObject();
  j.Key("components").BeginObject().Key("schemas").BeginObject();
  j.Key("Error").Raw(
      R"({"type":"object","required":["detail"],"properties":{"detail":{"type":"string"}}})");
  j.EndObject();
  j.Key("securitySchemes").Raw(R"({"bearer":{"type":"http","scheme":"bearer"}})");
  j.EndObject();
  j.EndObject();
  return out;
}

}  // namespace pinpipe::dashboard
