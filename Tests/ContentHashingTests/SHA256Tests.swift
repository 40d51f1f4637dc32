import ContentHashing
import Foundation
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    /// Both block implementations; the SHA extensions only on a CPU that has them (this machine does).
    static let implementations = SHA256.Implementation.allCases.filter {
        $0 == .software || SHA256.hardwareIsAvailable
    }

    /// FIPS 180-4 / NIST example vectors; the last one is two blocks long.
    @Test("known vectors", arguments: implementations, [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
            + "mnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func vectors(implementation: SHA256.Implementation, vector: (input: String, digest: String)) {
        var hasher = SHA256(implementation: implementation)
        hasher.update(Data(vector.input.utf8))
        #expect(hasher.finalize().hexString == vector.digest)
    }

    @Test("one million 'a' (NIST), fed in uneven chunks", arguments: implementations)
    func millionA(implementation: SHA256.Implementation) {
        let data = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        var hasher = SHA256(implementation: implementation)
        var offset = 0, chunk = 1
        while offset < data.count {
            let end = min(offset + chunk, data.count)
            hasher.update(data[offset..<end])
            offset = end
            chunk = chunk * 7 % 1000 + 1  // 1, 8, 57, 400, ... crosses block boundaries at every phase
        }
        #expect(hasher.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// 1 MiB of bytes i % 251, checked against `sha256sum` when it exists; the constant is what sha256sum printed
    /// for the same bytes when this test was written.
    @Test("1 MiB file equals sha256sum")
    func fileAgainstSha256sum() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("mib.bin")
        try Data((0..<(1 << 20)).map { UInt8($0 % 251) }).write(to: file)
        let ours = try SHA256.hash(contentsOf: file).hexString
        #expect(ours == "631b84027d6b9e52b539c4e8373622d23032dfadc64d60af87339c9037e4f769")
        let tool = URL(fileURLWithPath: "/usr/bin/sha256sum")
        if FileManager.default.isExecutableFile(atPath: tool.path) {
            let process = Process(), pipe = Pipe()
            process.executableURL = tool
            process.arguments = [file.path]
            process.standardOutput = pipe
            try process.run()
            let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(printed.split(separator: " ").first.map(String.init) == ours)
        }
    }
}

