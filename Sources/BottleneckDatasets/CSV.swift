import Foundation

/// RFC 4180 CSV: comma-separated fields, records ended by CRLF or LF; a field in double quotes may hold commas,
/// line breaks and quotes (written twice). A UTF-8 byte order mark is ignored, blank lines are skipped, and a
/// stray quote inside an unquoted field is taken literally (common in hand-written files).
enum CSV {
    struct Record: Equatable {
        /// The line the record starts on, from 1.
        let line: Int
        let fields: [String]
    }

    struct SyntaxError: Error, Equatable {
        let line: Int
        let message: String
    }

    /// Splits CSV text into records.
    ///
    /// - Throws: ``SyntaxError`` for an unterminated quoted field or text after a closing quote.
    static func records(in bytes: [UInt8]) throws(SyntaxError) -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var records: [Record] = []
        var fields: [String] = []
        var recordLine = 1
        var wasQuoted = false

        func endRecord() {
            // A blank line is one empty, unquoted field: skip it.
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
        }

        while index < bytes.count {
            if fields.isEmpty { recordLine = line; wasQuoted = false }
            var field: [UInt8] = []
            if bytes[index] == quote {
                wasQuoted = true
                let start = line
                index += 1
                while true {
                    guard index < bytes.count else {
                        throw SyntaxError(line: start, message: "a quoted field starting on line \(start) never ends"
                                          + " (a missing closing quote)")
                    }
                    let byte = bytes[index]
                    if byte == quote {
                        if index + 1 < bytes.count, bytes[index + 1] == quote {
                            field.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if byte == lf || (byte == cr && (index + 1 == bytes.count || bytes[index + 1] != lf)) {
                        line += 1
                    }
                    field.append(byte)
                    index += 1
                }
                if index < bytes.count, ![comma, cr, lf].contains(bytes[index]) {
                    throw SyntaxError(line: line, message: "text after a closing quote on line \(line): a quote inside"
                                      + " a quoted field must be written twice (\"\")")
                }
            } else {
                while index < bytes.count, ![comma, cr, lf].contains(bytes[index]) {
                    field.append(bytes[index])
                    index += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            guard index < bytes.count else { break }
            switch bytes[index] {
            case comma:
                index += 1
                if index == bytes.count { fields.append("") }
            case cr:
                index += index + 1 < bytes.count && bytes[index + 1] == lf ? 2 : 1
                line += 1
                endRecord()
            default:  // lf
                index += 1
                line += 1
                endRecord()
            }
        }
        if !fields.isEmpty { endRecord() }
        return records
    }

    /// One record, fields quoted where RFC 4180 requires (comma, quote, CR or LF inside), ended by `\n`.
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            guard field.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\n"
    }
}
