// Package httpapi is redelay's HTTP API for any language: add, inspect and delete tasks,
// invoke a target app through a queue (synchronously, or with a callback), and read queue
// statistics, as JSON over HTTP under /v1. The worker binary serves it on its -http
// listener; any program can mount it:
//
//	h, err := httpapi.New(httpapi.Config{Client: client, APIKeys: []string{key}})
//	if err != nil { ... }
//	mux.Handle("/v1/", h)
//
// Every request carries "Authorization: Bearer <key>"; with no key configured every
// request gets 401. Errors are JSON objects {"error": "what is wrong"}.
//
// The endpoints (GET /v1/openapi.json serves their OpenAPI 3 description, also in this
// package's openapi.json):
//
//	POST   /v1/queues/{queue}/tasks          add a task: {name, path, method, headers, body | body_base64,
//	                                         delay, eta, retry, idempotency_key, callback_url} -> 201
//	POST   /v1/queues/{queue}/tasks:batch    add tasks, all or nothing on validation: {"tasks": [...]} -> 201
//	GET    /v1/queues/{queue}/tasks/{name}   the task's status and result; ?wait=10s waits for it to finish
//	DELETE /v1/queues/{queue}/tasks/{name}   delete a task -> 204
//	GET    /v1/queues                        statistics of Config.Queues, or of ?queue=a&queue=b
//	*      /v1/queues/{queue}/invoke/{path}  call the target's /{path} (up to 4 levels) through the queue
//
// An invoke passes the method (POST, GET, PUT, PATCH or DELETE), query, headers and body on
// to the target and answers with the target's status, headers and body plus X-Call-Id, the
// call's task name; after ?timeout= (default 30s) it answers 504 with X-Call-Id and the call
// goes on, to be polled at GET .../tasks/{id}. With an X-Callback-Url header it answers 202
// {"id": ...} at once, and the worker POSTs the outcome to that URL when the call is done.
package httpapi
