import Foundation

/// A minimal XML reader for S3's responses: an element tree with names, child elements and decoded text.
///
/// It handles what S3 sends (a prolog, namespaces as ignored attributes, the five predefined entities, numeric
/// character references, CDATA, comments) and rejects malformed input; it does not validate, resolve DTDs or keep
/// attributes. Kept in-house so that the Lambda binary needs neither FoundationXML nor libxml2.
struct XMLElementTree {
    /// The element name, with any namespace prefix.
    var name: String
    /// The element's own text (outside its children), entities decoded.
    var text: String
    /// The child elements in document order.
    var children: [XMLElementTree]

    /// The first child named `name`.
    func child(_ name: String) -> XMLElementTree? {
        children.first { $0.name == name }
    }

    /// All children named `name`.
    func children(named name: String) -> [XMLElementTree] {
        children.filter { $0.name == name }
    }

    /// Parses a document and returns its root element, or nil when `data` is not well-formed XML.
    static func parse(_ data: Data) -> XMLElementTree? {
        var parser = Parser(bytes: Array(data))
        return parser.parseDocument()
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func parseDocument() -> XMLElementTree? {
            skipMisc()
            guard peek(is: "<"), let root = parseElement() else { return nil }
            skipMisc()
            return position == bytes.count ? root : nil
        }

        /// Skips whitespace, the prolog, processing instructions, comments and a DOCTYPE.
        private mutating func skipMisc() {
            while true {
                while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
                if peek(is: "<?") {
                    guard skip(past: "?>") else { return }
                } else if peek(is: "<!--") {
                    guard skip(past: "-->") else { return }
                } else if peek(is: "<!DOCTYPE") {
                    guard skip(past: ">") else { return }
                } else {
                    return
                }
            }
        }

        /// Parses `<name ...>content</name>` or `<name .../>` starting at `<`.
        private mutating func parseElement() -> XMLElementTree? {
            position += 1
            let nameStart = position
            while position < bytes.count, !isNameEnd(bytes[position]) { position += 1 }
            guard position > nameStart else { return nil }
            let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
            // Attributes are skipped; quoted values may contain '>' or '/'.
            var quote: UInt8?
            while position < bytes.count {
                let byte = bytes[position]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    break
                }
                position += 1
            }
            guard position < bytes.count else { return nil }
            position += 1
            var element = XMLElementTree(name: name, text: "", children: [])
            if bytes[position - 2] == UInt8(ascii: "/") { return element }

            var text: [UInt8] = []
            while position < bytes.count {
                if peek(is: "</") {
                    position += 2
                    let closeStart = position
                    guard skip(past: ">") else { return nil }
                    let closing = String(decoding: bytes[closeStart..<(position - 1)], as: UTF8.self)
                    guard closing.trimmingCharacters(in: .whitespaces) == name,
                          let decoded = Self.decodeEntities(text) else { return nil }
                    element.text = decoded
                    return element
                } else if peek(is: "<!--") {
                    guard skip(past: "-->") else { return nil }
                } else if peek(is: "<![CDATA[") {
                    position += 9
                    let start = position
                    guard skip(past: "]]>") else { return nil }
                    // CDATA is literal: escape '&' so that entity decoding leaves it unchanged.
                    for byte in bytes[start..<(position - 3)] {
                        text.append(contentsOf: byte == UInt8(ascii: "&") ? Array("&amp;".utf8) : [byte])
                    }
                } else if peek(is: "<?") {
                    guard skip(past: "?>") else { return nil }
                } else if peek(is: "<") {
                    guard let child = parseElement() else { return nil }
                    element.children.append(child)
                } else {
                    text.append(bytes[position])
                    position += 1
                }
            }
            return nil
        }

        private func isNameEnd(_ byte: UInt8) -> Bool {
            [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/")].contains(byte)
        }

        private func peek(is literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
            return bytes[position..<(position + count)].elementsEqual(expected)
        }

        /// Moves past the next occurrence of `literal`; false (at the end) when there is none.
        private mutating func skip(past literal: StaticString) -> Bool {
            while position < bytes.count {
                if peek(is: literal) {
                    position += literal.utf8CodeUnitCount
                    return true
                }
                position += 1
            }
            return false
        }

        /// Replaces `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;`; nil for an unknown or broken reference.
        static func decodeEntities(_ text: [UInt8]) -> String? {
            guard text.contains(UInt8(ascii: "&")) else { return String(decoding: text, as: UTF8.self) }
            var result = ""
            var index = 0
            while index < text.count {
                guard text[index] == UInt8(ascii: "&") else {
                    let end = text[index...].firstIndex(of: UInt8(ascii: "&")) ?? text.count
                    result += String(decoding: text[index..<end], as: UTF8.self)
                    index = end
                    continue
                }
                guard let semicolon = text[index...].firstIndex(of: UInt8(ascii: ";")) else { return nil }
                let reference = String(decoding: text[(index + 1)..<semicolon], as: UTF8.self)
                switch reference {
                case "lt": result += "<"
                case "gt": result += ">"
                case "amp": result += "&"
                case "quot": result += "\""
                case "apos": result += "'"
                default:
                    let scalarValue: UInt32?
                    if reference.hasPrefix("#x") || reference.hasPrefix("#X") {
                        scalarValue = UInt32(reference.dropFirst(2), radix: 16)
                    } else if reference.hasPrefix("#") {
                        scalarValue = UInt32(reference.dropFirst(), radix: 10)
                    } else {
                        scalarValue = nil
                    }
                    guard let scalarValue, let scalar = Unicode.Scalar(scalarValue) else { return nil }
                    result.unicodeScalars.append(scalar)
                }
                index = semicolon + 1
            }
            return result
        }
    }
}
