import BottleneckNetwork
import Foundation
import Testing

/// Finding credentials, region and endpoint from an injected environment and temporary shared files, and how
/// S3Client addresses objects with the result. Nothing here touches the network or the real environment.
@Suite struct AWSConfigurationTests {
    /// A temporary HOME with optional ~/.aws/credentials and ~/.aws/config.
    private final class Home {
        let url: URL
        init(credentials: String? = nil, config: String? = nil) throws {
            url = try TestSupport.makeTemporaryFolder()
            let aws = url.appendingPathComponent(".aws")
            try FileManager.default.createDirectory(at: aws, withIntermediateDirectories: true)
            try credentials?.write(to: aws.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
            try config?.write(to: aws.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    private let sharedCredentials = """
        # comment
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default/secret+key

        [ci]
        aws_access_key_id=AKIACI
        aws_secret_access_key=ci-secret
        aws_session_token = ci-token
        """
    private let sharedConfig = """
        [default]
        region = eu-west-1

        [profile ci]
        region = ap-southeast-2
        s3 =
          addressing_style = path
        """

    @Test func environmentCredentialsComeFirst() throws {
        let home = try Home(credentials: sharedCredentials, config: sharedConfig)
        let aws = try AWSConfiguration.load(environment: [
            "HOME": home.url.path, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
            "AWS_SESSION_TOKEN": "env-token", "AWS_PROFILE": "ci",
        ])
        #expect(aws.credentials.accessKeyID == "AKIAENV")
        #expect(aws.credentials.secretAccessKey == "env-secret")
        #expect(aws.credentials.sessionToken == "env-token")
        #expect(aws.credentials.source == "environment variables")
        #expect(aws.region == "ap-southeast-2", "the profile's region still applies")
        #expect(aws.endpoint == nil)
    }

    @Test func defaultProfileOfTheSharedFiles() throws {
        let home = try Home(credentials: sharedCredentials, config: sharedConfig)
        let aws = try AWSConfiguration.load(environment: ["HOME": home.url.path])
        #expect(aws.credentials.accessKeyID == "AKIADEFAULT")
        #expect(aws.credentials.secretAccessKey == "default/secret+key")
        #expect(aws.credentials.sessionToken == nil)
        #expect(aws.credentials.source.contains("profile 'default'"))
        #expect(aws.region == "eu-west-1")
    }

    @Test func namedProfileWithSessionToken() throws {
        let home = try Home(credentials: sharedCredentials, config: sharedConfig)
        let aws = try AWSConfiguration.load(environment: ["HOME": home.url.path, "AWS_PROFILE": "ci"])
        #expect(aws.credentials.accessKeyID == "AKIACI")
        #expect(aws.credentials.sessionToken == "ci-token")
        #expect(aws.region == "ap-southeast-2")
    }

    @Test func regionPrecedence() throws {
        let home = try Home(credentials: sharedCredentials, config: sharedConfig)
        let base = ["HOME": home.url.path]
        func region(_ extra: [String: String]) throws -> String {
            try AWSConfiguration.load(environment: base.merging(extra) { $1 }).region
        }
        #expect(try region(["AWS_DEFAULT_REGION": "us-west-2"]) == "us-west-2")
        #expect(try region(["AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "sa-east-1"]) == "sa-east-1")
        let bare = try Home(credentials: sharedCredentials)
        #expect(try AWSConfiguration.load(environment: ["HOME": bare.url.path]).region == "us-east-1")
    }

    @Test func credentialsInTheConfigFileAndExplicitPaths() throws {
        let home = try Home()
        let config = home.url.appendingPathComponent("custom-config")
        let profile = "[profile build]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = config-secret\n"
            + "region = eu-north-1\n"
        try profile.write(to: config, atomically: true, encoding: .utf8)
        let aws = try AWSConfiguration.load(environment: [
            "HOME": home.url.path, "AWS_CONFIG_FILE": "~/custom-config", "AWS_PROFILE": "build",
        ])
        #expect(aws.credentials.accessKeyID == "AKIACONFIG")
        #expect(aws.credentials.source.contains(config.path))
        #expect(aws.region == "eu-north-1")

        let credentials = home.url.appendingPathComponent("elsewhere")
        try "[default]\naws_access_key_id = AKIAELSEWHERE\naws_secret_access_key = s\n"
            .write(to: credentials, atomically: true, encoding: .utf8)
        let other = try AWSConfiguration.load(environment: [
            "HOME": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": credentials.path,
        ])
        #expect(other.credentials.accessKeyID == "AKIAELSEWHERE")
    }

    @Test func endpointOverride() throws {
        let keys = ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"]
        let general = try AWSConfiguration.load(
            environment: keys.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:9000/"]) { $1 })
        #expect(general.endpoint == "http://127.0.0.1:9000")
        let specific = try AWSConfiguration.load(environment: keys.merging([
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9001",
        ]) { $1 })
        #expect(specific.endpoint == "http://127.0.0.1:9001")
        let ignored = try AWSConfiguration.load(environment: keys.merging([
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9001", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        ]) { $1 })
        #expect(ignored.endpoint == nil)
        let error = try #require(throws: NetworkError.self) {
            try AWSConfiguration.load(environment: keys.merging(["AWS_ENDPOINT_URL_S3": "127.0.0.1:9000"]) { $1 })
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("AWS_ENDPOINT_URL_S3"))
    }

    @Test func malformedRegionIsAnError() throws {
        let error = try #require(throws: NetworkError.self) {
            try AWSConfiguration.load(environment: ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s",
                                                    "AWS_REGION": "eu-west-1:evil"])
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("AWS_REGION"))
    }

    @Test func missingCredentialsSayWhatToSet() throws {
        let home = try Home(config: sharedConfig)
        let error = try #require(throws: NetworkError.self) {
            try AWSConfiguration.load(environment: ["HOME": home.url.path])
        }
        #expect(error.code == .missingCredentials)
        #expect(error.description.contains("AWS_ACCESS_KEY_ID"))
        #expect(error.description.contains(home.url.path + "/.aws/credentials"))
    }

    @Test func halfAKeyPairIsAnError() throws {
        let error = try #require(throws: NetworkError.self) {
            try AWSConfiguration.load(environment: ["AWS_ACCESS_KEY_ID": "AKIA"])
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("AWS_SECRET_ACCESS_KEY"))
    }

    @Test func unknownProfileIsNamed() throws {
        let home = try Home(credentials: sharedCredentials, config: sharedConfig)
        let error = try #require(throws: NetworkError.self) {
            try AWSConfiguration.load(environment: ["HOME": home.url.path, "AWS_PROFILE": "nope"])
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains("'nope'"))
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: "hidden-secret",
                                         sessionToken: "hidden-token")
        #expect(credentials.description.contains("AKIAVISIBLE"))
        #expect(!credentials.description.contains("hidden"))
    }

    @Test func addressing() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")
        let local = try S3Client(aws: AWSConfiguration(credentials: credentials, endpoint: "http://127.0.0.1:9000"))
        #expect(local.objectURL(bucket: "cache", key: "a b+c/é/x~y")
                == "http://127.0.0.1:9000/cache/a%20b%2Bc/%C3%A9/x~y")
        let aws = try S3Client(aws: AWSConfiguration(credentials: credentials, region: "eu-west-1"))
        #expect(aws.objectURL(bucket: "cache", key: "shards/1.bin")
                == "https://cache.s3.eu-west-1.amazonaws.com/shards/1.bin")
        #expect(aws.objectURL(bucket: "my.dotted.bucket", key: "k")
                == "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k")
    }
}
