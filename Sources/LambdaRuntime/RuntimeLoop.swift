import Foundation

/// The life of a Lambda custom runtime: initialise once, then poll, handle and answer events until the process is
/// stopped.
///
///     RuntimeLoop.run(environment: ProcessInfo.processInfo.environment) {
///         try MyHandler(modelAt: URL(fileURLWithPath: "/var/task/model.onnx"))
///     }
///
/// An initialisation failure is logged, posted to `/runtime/init/error` (Lambda shows it to the caller and
/// retries init on the next invocation) and the process exits with status 1. For each event the loop exports
/// `_X_AMZN_TRACE_ID`, calls the handler, posts its response or error, and writes one JSON log line with the
/// request id, the handler's fields and the duration in ms. A failure of the Runtime API itself (unreachable, an
/// error status for the next event, a 5xx for a post) is logged and ends the process with status 1, so that Lambda
/// starts a fresh one.
public final class RuntimeLoop {
    private let client: RuntimeAPIClient
    private let logger: JSONLogger

    /// Creates a loop over `client`.
    public init(client: RuntimeAPIClient, logger: JSONLogger = JSONLogger()) {
        self.client = client
        self.logger = logger
    }

    /// Connects to `AWS_LAMBDA_RUNTIME_API`, initialises the handler, and serves events forever.
    /// - Parameter initialize: builds the handler (load models, read settings); a thrown error's description is
    ///   the message Lambda reports, so it should say what to fix.
    public static func run(
        environment: [String: String], logger: JSONLogger = JSONLogger(),
        initialize: () throws -> any InvocationHandler
    ) -> Never {
        let client: RuntimeAPIClient
        do {
            client = try RuntimeAPIClient(environment: environment)
        } catch {
            logger.log(.error, "cannot start the runtime", ["error": .string(error.code.rawValue),
                                                            "errorMessage": .string(error.description)])
            exit(1)
        }
        let loop = RuntimeLoop(client: client, logger: logger)
        let handler = loop.initialize(initialize)
        while true {
            do {
                try loop.serveOne(handler)
            } catch {
                logger.log(.error, "the Runtime API failed; exiting so that Lambda restarts the runtime",
                           ["error": .string(error.code.rawValue), "errorMessage": .string(error.description)])
                exit(1)
            }
        }
    }

    /// Runs `initialize`; on failure logs it, posts it to `/runtime/init/error` and exits with status 1.
    public func initialize(_ initialize: () throws -> any InvocationHandler) -> any InvocationHandler {
        let start = ContinuousClock.now
        do {
            let handler = try initialize()
            logger.log(.info, "initialized", ["initMs": .double(Milliseconds.since(start))])
            return handler
        } catch {
            let message = String(describing: error)
            logger.log(.error, "initialization failed", ["errorType": "Runtime.InitializationFailed",
                                                         "errorMessage": .string(message),
                                                         "initMs": .double(Milliseconds.since(start))])
            do {
                try client.sendInitializationError(FunctionError(type: "Runtime.InitializationFailed",
                                                                 message: message))
            } catch {
                logger.log(.error, "could not report the initialization error",
                           ["errorMessage": .string(error.description)])
            }
            exit(1)
        }
    }

    /// Waits for one event, handles it and posts the result.
    /// - Throws: `LambdaRuntimeError` when the Runtime API cannot be reached, when it answers `GET next` with
    ///   anything but 200 (a 4xx or 5xx), or when it answers the post of the result with a 5xx; a 4xx answer to
    ///   the post (e.g. 413, a response over 6 MiB) is logged and the loop goes on.
    public func serveOne(_ handler: any InvocationHandler) throws(LambdaRuntimeError) {
        let invocation = try client.nextInvocation()
        let context = invocation.context
        Self.exportTraceID(context.traceID)
        let start = ContinuousClock.now
        var result: InvocationResult
        do {
            result = try handler.handle(invocation)
        } catch {
            result = InvocationResult(.failure(FunctionError(type: "Runtime.Unhandled",
                                                             message: String(describing: error))),
                                      logFields: [("errorMessage", .string(String(describing: error)))],
                                      isError: true)
        }
        var fields: [(String, LogValue)] = [("requestId", .string(context.requestID))]
        fields += result.logFields
        fields.append(("durationMs", .double(Milliseconds.since(start))))
        do {
            switch result.outcome {
            case .response(let payload):
                try client.sendResponse(payload, for: context.requestID)
            case .failure(let error):
                fields.append(("errorType", .string(error.errorType)))
                try client.sendError(error, for: context.requestID)
            }
        } catch let error where (400..<500).contains(error.statusCode ?? 0) {
            fields.append(("postError", .string(error.description)))
            logger.log(.error, "invocation", fields: fields)
            return
        }
        logger.log(result.isError ? .error : .info, "invocation", fields: fields)
    }

    /// Sets `_X_AMZN_TRACE_ID` for this invocation (X-Ray SDKs read it), or removes a previous one.
    private static func exportTraceID(_ traceID: String?) {
        // setenv and unsetenv fail only for an empty name or one with "=" (programmer error) or out of memory.
        let status = traceID.map { setenv("_X_AMZN_TRACE_ID", $0, 1) } ?? unsetenv("_X_AMZN_TRACE_ID")
        precondition(status == 0, "setting _X_AMZN_TRACE_ID failed: errno \(errno)")
    }
}
