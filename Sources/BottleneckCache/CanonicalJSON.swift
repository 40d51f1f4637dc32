import Foundation

/// Canonical JSON text, so that equal preprocessing descriptions give equal namespace ids whatever their key order,
/// spacing or number spelling: keys sorted by their UTF-8 bytes, no whitespace, integers without a fraction
/// (`256`, not `256.0`), other numbers in Swift's shortest round-trip form (`0.485`, `1e-05`), strings escaping only
/// `"`, `\` and control characters.
public enum CanonicalJSON {
    /// Parses `text` and writes it canonically. Throws ``CacheError/Code/invalidNamespace`` if it is not JSON.
    public static func canonicalize(_ text: String) throws -> String {
        let value: Value
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw CacheError(.invalidNamespace, "the preprocessing description is not valid JSON: \(text.prefix(200))")
        }
        var output = ""
        value.write(to: &output)
        return output
    }

    indirect enum Value: Decodable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case object([String: Value])

        init(from decoder: any Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                var elements: [Value] = []
                while !array.isAtEnd { elements.append(try array.decode(Value.self)) }
                self = .array(elements)
                return
            }
            if let object = try? decoder.container(keyedBy: AnyKey.self) {
                var members: [String: Value] = [:]
                for key in object.allKeys { members[key.stringValue] = try object.decode(Value.self, forKey: key) }
                self = .object(members)
                return
            }
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let bool = try? single.decode(Bool.self) {
                self = .bool(bool)
            } else if let number = try? single.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try single.decode(String.self))
            }
        }

        func write(to output: inout String) {
            switch self {
            case .null: output += "null"
            case .bool(let bool): output += bool ? "true" : "false"
            case .number(let number):
                if number == number.rounded(), abs(number) < 1e15 {
                    output += String(Int64(number))
                } else {
                    output += number.description
                }
            case .string(let string): Self.writeString(string, to: &output)
            case .array(let elements):
                output += "["
                for (index, element) in elements.enumerated() {
                    if index > 0 { output += "," }
                    element.write(to: &output)
                }
                output += "]"
            case .object(let members):
                output += "{"
                let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                for (index, key) in keys.enumerated() {
                    if index > 0 { output += "," }
                    Self.writeString(key, to: &output)
                    output += ":"
                    members[key]!.write(to: &output)
                }
                output += "}"
            }
        }

        static func writeString(_ string: String, to output: inout String) {
            output += "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": output += "\\\""
                case "\\": output += "\\\\"
                case "\n": output += "\\n"
                case "\r": output += "\\r"
                case "\t": output += "\\t"
                case _ where scalar.value < 0x20:
                    let digits = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                default: output.unicodeScalars.append(scalar)
                }
            }
            output += "\""
        }
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
