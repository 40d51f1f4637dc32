import BottleneckNetwork
import Foundation
import Testing

/// moto's S3 (and IAM/STS) server on 127.0.0.1 at a free port, one per suite that declares `.motoServer`.
///
/// The launch script creates an IAM user with an access key, a role that user may assume and the bucket
/// `bottleneck-tests`, then turns on moto's request authentication: from then on moto recomputes every request's
/// SigV4 signature with botocore and rejects unknown keys, wrong signatures and wrong session tokens, like S3.
final class MotoServer: Sendable {
    /// The server of the running suite.
    @TaskLocal static var current: MotoServer?

    /// The bucket the launch script creates.
    static let bucket = "bottleneck-tests"

    /// `http://127.0.0.1:PORT`.
    let endpoint: String
    /// The IAM user's long-term key.
    let userCredentials: AWSCredentials
    /// Temporary credentials of the assumed role (with a session token).
    let sessionCredentials: AWSCredentials
    private let process: PythonServer

    private init(process: PythonServer) throws {
        struct Ready: Decodable {
            let port: Int
            let accessKeyID, secretAccessKey: String
            let sessionAccessKeyID, sessionSecretAccessKey, sessionToken: String
        }
        let ready = try JSONDecoder().decode(Ready.self, from: Data(process.readyLine.utf8))
        self.process = process
        endpoint = "http://127.0.0.1:\(ready.port)"
        userCredentials = AWSCredentials(accessKeyID: ready.accessKeyID, secretAccessKey: ready.secretAccessKey,
                                         source: "moto IAM user")
        sessionCredentials = AWSCredentials(accessKeyID: ready.sessionAccessKeyID,
                                            secretAccessKey: ready.sessionSecretAccessKey,
                                            sessionToken: ready.sessionToken, source: "moto STS session")
    }

    /// Starts moto and waits until it answers and the test identities exist.
    static func start() throws -> MotoServer {
        let hint = "moto[server] and boto3 are not installed in .venv: run `make venv`"
        let process = try PythonServer(script: launchScript, name: "moto-server", timeout: 120,
                                       missingModuleHint: hint)
        do {
            return try MotoServer(process: process)
        } catch {
            process.stop()
            throw HarnessError(description: "moto-server printed \(process.readyLine.debugDescription): \(error)")
        }
    }

    /// An S3 client for this server (path style through the endpoint override).
    func client(
        credentials: AWSCredentials? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10))
    ) throws -> S3Client {
        try S3Client(aws: AWSConfiguration(credentials: credentials ?? userCredentials, endpoint: endpoint),
                     retryPolicy: retryPolicy)
    }

    /// Runs a boto3 script against this server and returns its standard output. The script gets `s3`, a boto3 S3
    /// client with the user's credentials, `bucket`, and `sys.argv[1:]` = `arguments`.
    func runBoto3(_ body: String, arguments: [String] = []) throws -> String {
        let prelude = """
            import sys, boto3
            from botocore.config import Config
            s3 = boto3.client("s3", endpoint_url="\(endpoint)", region_name="us-east-1",
                              aws_access_key_id="\(userCredentials.accessKeyID)",
                              aws_secret_access_key="\(userCredentials.secretAccessKey)",
                              config=Config(s3={"addressing_style": "path"}))
            bucket = "\(Self.bucket)"

            """
        let process = Process()
        process.executableURL = TestSupport.python
        process.arguments = ["-c", prelude + body] + arguments
        process.environment = TestSupport.helperEnvironment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorText = LockedValue(Data())
        let errorReader = Thread { errorText.value = errors.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        guard process.terminationStatus == 0 else {
            throw HarnessError(description: "boto3 script failed: " + String(decoding: errorText.value, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self)
    }

    func stop() {
        process.stop()
    }

    /// Runs a suite with one moto server, stopped when the suite ends.
    struct Scope: SuiteTrait, TestScoping {
        func provideScope(
            for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
        ) async throws {
            let server = try MotoServer.start()
            defer { server.stop() }
            try await MotoServer.$current.withValue(server) { try await function() }
        }
    }

    private static let launchScript = #"""
        import json, sys
        try:
            import boto3
            from moto import settings
            from moto.core.authorization import ActionAuthenticatorMixin
            from moto.server import ThreadedMotoServer
        except ImportError as error:
            print(error, file=sys.stderr)
            sys.exit(3)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        port = server.get_host_and_port()[1]
        endpoint = f"http://127.0.0.1:{port}"

        def client(service, key_id, secret, token=None):
            return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                                aws_secret_access_key=secret, aws_session_token=token)

        allow_all = json.dumps({"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        iam = client("iam", "bootstrap", "bootstrap")
        user = iam.create_user(UserName="bottleneck-tests")["User"]
        iam.put_user_policy(UserName="bottleneck-tests", PolicyName="all", PolicyDocument=allow_all)
        key = iam.create_access_key(UserName="bottleneck-tests")["AccessKey"]
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="bottleneck-tests", AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName="bottleneck-tests", PolicyName="all", PolicyDocument=allow_all)

        # From here on moto checks every request's signature against the keys it issued (the server runs in this
        # process, so its settings can be changed directly).
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0

        session = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
            RoleArn=role["Arn"], RoleSessionName="bottleneck-tests")["Credentials"]
        client("s3", key["AccessKeyId"], key["SecretAccessKey"]).create_bucket(Bucket="bottleneck-tests")
        print(json.dumps({"port": port, "accessKeyID": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"],
                          "sessionAccessKeyID": session["AccessKeyId"],
                          "sessionSecretAccessKey": session["SecretAccessKey"],
                          "sessionToken": session["SessionToken"]}), flush=True)
        sys.stdin.read()
        server.stop()
        """#
}

extension Trait where Self == MotoServer.Scope {
    /// Starts a `MotoServer` for the suite; tests reach it as `MotoServer.current`.
    static var motoServer: Self { Self() }
}
