import BottleneckNetwork
import Foundation
import Testing

/// The address filter decides before a socket exists: a listening socket that never accepts shows, through its
/// backlog, whether any connection was attempted.
@Suite struct AddressFilterTests {
    @Test func deniedAddressIsNeverContacted() throws {
        let listener = try ListeningSocket()
        let seen = LockedValue<[String]>([])
        let client = try HTTPClient(configuration: .init(addressFilter: { address in
            seen.value.append(address)
            return address != "127.0.0.1"
        }))
        let url = "http://127.0.0.1:\(listener.port)/secret"
        let error = try #require(throws: NetworkError.self) { try client.send(HTTPRequest(method: .get, url: url)) }
        #expect(error.code == .addressDenied)
        #expect(error.description.contains("127.0.0.1"))
        #expect(seen.value == ["127.0.0.1"])
        #expect(!listener.takePendingConnection(), "a connection reached the listener although the filter denied it")
    }

    @Test func allowedAddressIsContacted() throws {
        let listener = try ListeningSocket()
        let seen = LockedValue<[String]>([])
        let client = try HTTPClient(configuration: .init(totalTimeout: .milliseconds(300), addressFilter: { address in
            seen.value.append(address)
            return true
        }))
        // Nothing answers (the listener never accepts), so the request times out after connecting.
        let error = try #require(throws: NetworkError.self) {
            try client.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(listener.port)/"))
        }
        #expect(error.code == .timedOut)
        #expect(seen.value == ["127.0.0.1"])
        #expect(listener.takePendingConnection(), "the allowed connection never reached the listener")
    }
}
