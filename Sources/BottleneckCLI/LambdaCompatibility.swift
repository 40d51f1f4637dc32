import Foundation

/// What AWS Lambda's `provided.al2023` runtime gives a packaged `bootstrap`, and the checks of the package against it.
///
/// Amazon Linux 2023 ships glibc 2.34 and GCC 11 (https://docs.aws.amazon.com/linux/al2023/ug/core-glibc.html):
/// its libstdc++ exports up to `GLIBCXX_3.4.29` and `CXXABI_1.3.13`, its libgcc_s up to `GCC_7.0.0`. The dynamic
/// loader refuses to start a program when the program or one of its libraries needs a newer symbol version.
enum LambdaCompatibility {
    /// The newest version of each system symbol-version family on provided.al2023.
    static let newestVersions: [String: [Int]] = [
        "GLIBC": [2, 34], "GLIBCXX": [3, 4, 29], "CXXABI": [1, 3, 13], "GCC": [7, 0, 0],
    ]

    /// One symbol version a file needs that provided.al2023 lacks.
    struct Violation: CustomStringConvertible {
        /// The file's path inside the package (`bootstrap`, `lib/libcurl.so.4`).
        var file: String
        /// The version, e.g. `GLIBC_2.35`.
        var version: String
        /// The undefined symbols bound to that version, e.g. `hypotf`.
        var symbols: [String]

        var description: String {
            let names = symbols.isEmpty ? ["(a symbol)"] : symbols
            return "\(file) needs " + names.map { "\($0)@\(version)" }.joined(separator: ", ")
        }
    }

    /// Whether a library of this soname must come from the runtime image rather than the package: glibc's own
    /// libraries (they must match the system's dynamic loader), the loader itself, and libstdc++ and libgcc_s
    /// (Debian's need a newer glibc than 2.34; AL2023 has its own GCC 11 copies).
    static func isSystemLibrary(_ soname: String) -> Bool {
        let glibc = ["libc.so", "libm.so", "libmvec.so", "libpthread.so", "libdl.so", "librt.so", "libresolv.so",
                     "libutil.so", "libanl.so", "libnsl.so", "libBrokenLocale.so", "libthread_db.so", "libnss_",
                     "ld-linux", "linux-vdso.so", "linux-gate.so", "libstdc++.so", "libgcc_s.so"]
        return glibc.contains { soname.hasPrefix($0) }
    }

    /// The shared libraries `ldd` resolved: `(soname, path)`; `path` is nil for "not found".
    static func resolvedLibraries(lddOutput: String) -> [(soname: String, path: String?)] {
        lddOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let soname = fields.first else { return nil }
            guard fields.count >= 3, fields[1] == "=>" else {
                return nil  // linux-vdso.so.1 (0x...) or the loader by absolute path: nothing to bundle
            }
            return (soname, fields[2] == "not" ? nil : fields[2])
        }
    }

    /// The libraries a file names as DT_NEEDED, from `objdump -p`.
    static func neededLibraries(objdumpPrivateHeaders: String) -> [String] {
        objdumpPrivateHeaders.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            return fields.count == 2 && fields[0] == "NEEDED" ? String(fields[1]) : nil
        }
    }

    /// The symbol versions a file requires, from the "Version References" of `objdump -p`.
    static func requiredVersions(objdumpPrivateHeaders: String) -> Set<String> {
        var versions = Set<String>()
        var inReferences = false
        for line in objdumpPrivateHeaders.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Version References:") {
                inReferences = true
            } else if inReferences {
                let fields = line.split(whereSeparator: \.isWhitespace)
                if fields.isEmpty || !line.hasPrefix(" ") { break }
                if fields.count == 4, fields[0].hasPrefix("0x") { versions.insert(String(fields[3])) }
            }
        }
        return versions
    }

    /// Whether provided.al2023 lacks `version` (`GLIBC_2.35` yes, `GLIBC_2.34` no); versions of other families
    /// (`CURL_OPENSSL_4`, `GLIBC_PRIVATE`) are not judged here.
    static func isTooNew(_ version: String) -> Bool {
        guard let (family, numbers) = parse(version), let newest = newestVersions[family] else { return false }
        return compare(numbers, newest) > 0
    }

    /// The newest version of `family` among `versions`, e.g. `GLIBC_2.34`.
    static func newest(of family: String, in versions: some Sequence<String>) -> String? {
        versions.compactMap { version in parse(version).flatMap { $0.family == family ? (version, $0.numbers) : nil } }
            .max { compare($0.1, $1.1) < 0 }?.0
    }

    /// The undefined symbols of `objdump -T` output bound to `version`.
    static func symbols(requiring version: String, objdumpDynamicSymbols: String) -> [String] {
        objdumpDynamicSymbols.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.contains("*UND*"), fields.contains(version) || fields.contains("(\(version))"),
                  let name = fields.last else { return nil }
            return name
        }
    }

    private static func parse(_ version: String) -> (family: String, numbers: [Int])? {
        guard let separator = version.firstIndex(of: "_") else { return nil }
        let numbers = version[version.index(after: separator)...].split(separator: ".").map { Int($0) }
        guard !numbers.isEmpty, !numbers.contains(nil) else { return nil }
        return (String(version[..<separator]), numbers.compactMap { $0 })
    }

    private static func compare(_ left: [Int], _ right: [Int]) -> Int {
        for index in 0..<max(left.count, right.count) {
            let (a, b) = (index < left.count ? left[index] : 0, index < right.count ? right[index] : 0)
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }
}
