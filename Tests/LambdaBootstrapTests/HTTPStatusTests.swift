import BottleneckServing
@testable import LambdaBootstrap
import Testing

/// The status an HTTP caller gets for each serving failure: 413 is kept for the request's own body.
@Suite struct HTTPStatusTests {
    @Test func tooLargeImagesAreUnprocessableNotPayloadTooLarge() {
        // A fetched or decoded image over its limit: the request itself was small and well-formed.
        #expect(ServingError.Kind.tooLarge.httpStatus == 422)
        #expect(ServingError.Kind.notAnImage.httpStatus == 400)
        #expect(ServingError.Kind.timedOut.httpStatus == 504)
        #expect(ServingError.Kind.unreachable.httpStatus == 502)
    }
}
