/// An ordered list of HTTP header fields with case-insensitive lookup.
///
/// Order and duplicates are kept as sent or received; `subscript(name)` returns the last value of a name, which is
/// what matters for the single-valued headers this package reads (Content-Length, ETag, Location).
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The field name as written (lookup ignores case).
        public var name: String
        /// The field value, without surrounding whitespace.
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private var fields: [Field]

    /// Creates an empty list.
    public init() {
        fields = []
    }

    /// Creates a list from `(name, value)` pairs, in the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// Appends a field. Names and values must not contain CR or LF (programmer error: that would split the header).
    public mutating func add(name: String, value: String) {
        precondition(!name.isEmpty && !name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }),
                     "invalid HTTP header name \(name.debugDescription)")
        precondition(!value.contains(where: { $0 == "\r" || $0 == "\n" }),
                     "HTTP header value of \(name) contains a line break")
        fields.append(Field(name: name, value: value))
    }

    /// Appends a field received from a server, unchecked: server data must never trip a precondition.
    mutating func appendReceived(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The last value of the field `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        let lowercased = name.lowercased()
        return fields.last(where: { $0.name.lowercased() == lowercased })?.value
    }

    /// The number of fields.
    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }
}
