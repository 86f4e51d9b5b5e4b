# kinlocal's bundled Python bootstrap: a Lambda Runtime API client using only the standard
# library. Usage: python3 bootstrap.py module.function  (AWS_LAMBDA_RUNTIME_API must be set)
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
PREFIX = "/2018-06-01/runtime"


class Conn:
    """One keep-alive HTTP/1.1 connection to the Runtime API, reopened when it drops."""

    def __init__(self):
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(API)
            try:
                self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise


class FaultError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, value):
        value = value or {}
        self.cognito_identity_id = value.get("cognitoIdentityId")
        self.cognito_identity_pool_id = value.get("cognitoIdentityPoolId")


class LambdaContext:
    """The context object, with the attribute names of the official Python runtime."""

    def __init__(self, request_id, deadline_ms, function_arn, identity, client_context, tenant_id):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.client_context = client_context
        self.identity = CognitoIdentity(identity)
        self.tenant_id = tenant_id
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self):
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def load_handler(name):
    try:
        modname, fname = name.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{name}': {e}")
    if not modname or not fname:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{name}'")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}")
    except SyntaxError as e:
        raise FaultError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {e}")
    except Exception as e:
        raise FaultError(type(e).__name__, f"Unable to import module '{modname}': {e}")
    handler = getattr(module, fname, None)
    if handler is None:
        raise FaultError("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'")
    return handler


def stack_of(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    # The bootstrap's own frames are not the user's concern.
    frames = [f for f in frames if f.filename != __file__]
    return traceback.format_list(frames)


def error_body(error_type, message, request_id=None, stack=None):
    body = {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}
    if request_id is not None:
        body["requestId"] = request_id
    return json.dumps(body).encode()


def main():
    if not API:
        sys.stderr.write("kinlocal bootstrap: AWS_LAMBDA_RUNTIME_API is not set\n")
        return 1
    sys.stdout.reconfigure(line_buffering=True)
    handler_name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("_HANDLER", "")
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    conn = Conn()
    try:
        handler = load_handler(handler_name)
    except FaultError as e:
        sys.stderr.write(f"[ERROR] {e.error_type}: {e.message}\n")
        conn.request(
            "POST",
            "/init/error",
            error_body(e.error_type, e.message),
            {"Lambda-Runtime-Function-Error-Type": e.error_type, "Content-Type": "application/json"},
        )
        return 1
    while True:
        status, headers, body = conn.request("GET", "/invocation/next")
        if status != 200:
            sys.stderr.write(f"kinlocal bootstrap: /invocation/next answered {status}\n")
            return 1
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            cognito = headers.get("Lambda-Runtime-Cognito-Identity")
            client_context = headers.get("Lambda-Runtime-Client-Context")
            context = LambdaContext(
                request_id,
                deadline_ms,
                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                json.loads(cognito) if cognito else None,
                json.loads(client_context) if client_context else None,
                headers.get("Lambda-Runtime-Aws-Tenant-Id"),
            )
            event = json.loads(body) if body else None
        except ValueError as e:
            conn.request(
                "POST",
                f"/invocation/{request_id}/error",
                error_body("Runtime.UnmarshalError", f"Unable to unmarshal input: {e}", request_id),
                {"Content-Type": "application/json"},
            )
            continue
        try:
            result = handler(event, context)
        except Exception as e:
            conn.request(
                "POST",
                f"/invocation/{request_id}/error",
                error_body(type(e).__name__, str(e), request_id, stack_of(e)),
                {"Content-Type": "application/json"},
            )
            continue
        try:
            out = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            conn.request(
                "POST",
                f"/invocation/{request_id}/error",
                error_body("Runtime.MarshalError", f"Unable to marshal response: {e}", request_id),
                {"Content-Type": "application/json"},
            )
            continue
        conn.request(
            "POST",
            f"/invocation/{request_id}/response",
            out,
            {"Content-Type": "application/json"},
        )


if __name__ == "__main__":
    sys.exit(main())
