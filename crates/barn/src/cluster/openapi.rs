//! The OpenAPI 3.1 document of the REST API, served at `/openapi.json`.
//! Written by hand beside the routes in `api.rs`; the cluster tests check
//! that every route it lists is served.

use serde_json::{Value, json};

/// The paths the document lists, for the test that every one is routed.
pub const PATHS: [&str; 9] = [
    "/v1/status",
    "/v1/requests",
    "/v1/nodes",
    "/v1/nodes/{id}",
    "/v1/runs",
    "/v1/runs/{id}",
    "/v1/runs/{id}/events",
    "/v1/members",
    "/v1/members/{id}",
];

pub fn document() -> Value {
    let consistency = json!({
        "name": "consistency", "in": "query", "required": false,
        "description": "`linearizable` (default): read-index through the leader; `stale`: this node's applied state",
        "schema": {"type": "string", "enum": ["linearizable", "stale"]}
    });
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}});
    // Every refusal has this body, whatever its status: 400 (a bad path,
    // query or body), 404, 405, 413 (a body too large), 415 (not JSON),
    // 422 (JSON of the wrong shape), 503, 504, 500.
    let error = json!({"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}});
    let ok = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"type": "object"}}}});
    let ok_list = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}});
    let done = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"type": "null"}}}});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Runink Barn",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Barn's control-plane API. Every node serves every route; writes go to the leader; reads are linearizable unless `consistency=stale`."
        },
        "paths": {
            "/v1/status": {"get": {"summary": "this node's raft state, the members and each follower's lag",
                "responses": {"200": {"description": "status", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClusterStatus"}}}}}}},
            "/v1/requests": {"post": {"summary": "apply a request (a command with a client request id; a retry with the same id applies once)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                "responses": {"200": ok("the outcome: `{\"Ok\": applied}` or `{\"Err\": refusal}`"), "400": error.clone(), "503": error.clone(), "504": error.clone(), "default": error.clone()}}},
            "/v1/nodes": {"get": {"summary": "the registered nodes", "parameters": [consistency.clone()],
                "responses": {"200": ok_list("nodes"), "503": error.clone(), "default": error.clone()}}},
            "/v1/nodes/{id}": {"get": {"summary": "one registered node", "parameters": [id.clone(), consistency.clone()],
                "responses": {"200": ok("the node"), "404": error.clone(), "503": error.clone(), "default": error.clone()}}},
            "/v1/runs": {"get": {"summary": "the kept runs the query admits (every run without one), the newest `limit` of them, in submission order",
                "parameters": [consistency.clone(),
                    {"name": "status", "in": "query", "required": false, "description": "only runs in one of these statuses, comma-separated (pending, running, succeeded, failed, cancelled)", "schema": {"type": "string"}},
                    {"name": "scenario", "in": "query", "required": false, "description": "only runs of the scenario with this name", "schema": {"type": "string"}},
                    {"name": "herd", "in": "query", "required": false, "description": "only runs in this herd", "schema": {"type": "string"}},
                    {"name": "dag_hash", "in": "query", "required": false, "description": "only runs whose dag_hash starts with these hex digits", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "required": false, "description": "at most this many, the newest", "schema": {"type": "integer", "minimum": 0}}],
                "responses": {"200": ok_list("runs, oldest first"), "400": error.clone(), "503": error.clone(), "default": error.clone()}}},
            "/v1/runs/{id}": {"get": {"summary": "one run", "parameters": [id.clone(), consistency.clone()],
                "responses": {"200": ok("the run"), "404": error.clone(), "503": error.clone(), "default": error.clone()}}},
            "/v1/runs/{id}/events": {"get": {"summary": "one run's kept log lines and events, oldest first", "parameters": [id.clone(), consistency],
                "responses": {"200": ok_list("the events"), "404": error.clone(), "503": error.clone(), "default": error.clone()}}},
            "/v1/members": {"post": {"summary": "add a node: as a learner, then, once caught up, as a voter",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AddMember"}}}},
                "responses": {"200": done("added (the body is `null`)"), "400": error.clone(), "503": error.clone(), "default": error.clone()}}},
            "/v1/members/{id}": {"delete": {"summary": "remove a node (joint consensus for a voter)", "parameters": [id],
                "responses": {"200": done("removed (the body is `null`)"), "400": error.clone(), "404": error.clone(), "503": error.clone(), "default": error}}}
        },
        "components": {"schemas": {
            "ApiError": {"type": "object", "required": ["kind", "message"], "properties": {
                "kind": {"type": "string", "enum": ["bad_request", "not_found", "unavailable", "indeterminate", "forbidden", "internal"]},
                "message": {"type": "string"}}},
            "AddMember": {"type": "object", "required": ["id", "addr"], "properties": {
                "id": {"type": "integer", "minimum": 1}, "addr": {"type": "string", "description": "HOST:PORT"}}},
            "Request": {"type": "object", "required": ["id", "command"], "properties": {
                "id": {"type": "object", "required": ["client", "seq"], "properties": {
                    "client": {"type": "integer"}, "seq": {"type": "integer"}}},
                "command": {"type": "object", "description": "one `Command` (crates/barn/src/command.rs) in serde's external tagging, e.g. `{\"RegisterNode\": {\"node\": 4, \"addr\": \"h:1\", \"at_ms\": 0}}`"}}},
            "ClusterStatus": {"type": "object", "properties": {
                "id": {"type": "integer"}, "state": {"type": "string"}, "leader": {"type": ["integer", "null"]},
                "term": {"type": "integer"}, "last_log_index": {"type": ["integer", "null"]},
                "committed_index": {"type": ["integer", "null"]}, "applied_index": {"type": ["integer", "null"]},
                "snapshot_index": {"type": ["integer", "null"]}, "purged_index": {"type": ["integer", "null"]},
                "members": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "addr": {"type": "string"}, "voter": {"type": "boolean"}}}},
                "followers": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "matched_index": {"type": ["integer", "null"]}, "lag": {"type": "integer"}}}}}}
        }}
    })
}
