import Glibc

/// Which IP addresses an `ImageFetcher` may connect to: the defence against server-side request forgery.
///
/// A pure classifier of textual IPv4 and IPv6 addresses (`"93.184.216.34"`, `"2606:2800:220:1::"`, with an
/// optional `%zone`). Every address falls in one `Category`, after the IANA special-purpose registries; only the
/// categories in `allowedCategories` are allowed, and text that is not an IP address never is. IPv4 addresses
/// carried inside IPv6 (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and
/// 6to4 `2002::/16`) are classified by the IPv4 address they carry, so `::ffff:169.254.169.254` is link-local.
///
///     AddressPolicy.publicOnly.allows("169.254.169.254")     // false: the cloud metadata endpoint
///     AddressPolicy.allowingLoopback.allows("127.0.0.1")     // true: for tests against a local server
public struct AddressPolicy: Sendable, Equatable {
    /// The kind of an address.
    public enum Category: String, Sendable, CaseIterable {
        /// Globally routable unicast: what a public image URL resolves to.
        case publicUnicast
        /// 127.0.0.0/8, ::1.
        case loopback
        /// 0.0.0.0/8 ("this network"), ::.
        case unspecified
        /// RFC 1918 (10/8, 172.16/12, 192.168/16), IPv6 unique local fc00::/7 and site-local fec0::/10, and the
        /// local-use NAT64 prefix 64:ff9b:1::/48.
        case privateNetwork
        /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
        case sharedAddressSpace
        /// 169.254.0.0/16 (cloud metadata endpoints such as 169.254.169.254 live here), fe80::/10.
        case linkLocal
        /// 224.0.0.0/4, ff00::/8.
        case multicast
        /// 255.255.255.255.
        case broadcast
        /// 198.18.0.0/15, 2001:2::/48 (RFC 2544, RFC 5180).
        case benchmarking
        /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
        case documentation
        /// Everything else that is not globally routable: 192.0.0.0/24, 192.88.99.0/24, 240.0.0.0/4, 100::/64,
        /// 2001::/23, and IPv6 outside the global unicast block 2000::/3.
        case reserved
        /// Text that is not an IPv4 or IPv6 address.
        case notAnAddress
    }

    /// The categories whose addresses are allowed.
    public var allowedCategories: Set<Category>

    /// Allows exactly `allowedCategories` (`.notAnAddress` is never allowed, whatever the set says).
    public init(allowedCategories: Set<Category>) {
        self.allowedCategories = allowedCategories
    }

    /// Public unicast addresses only: the default for URLs from untrusted callers.
    public static let publicOnly = AddressPolicy(allowedCategories: [.publicUnicast])
    /// Public addresses and loopback (127.0.0.0/8, ::1): for tests and for fetching from a local server.
    public static let allowingLoopback = AddressPolicy(allowedCategories: [.publicUnicast, .loopback])

    /// Whether a connection to `ip` (numeric text, as libcurl resolved it) is allowed.
    public func allows(_ ip: String) -> Bool {
        let category = Self.category(of: ip)
        return category != .notAnAddress && allowedCategories.contains(category)
    }

    /// The category of `ip`, numeric IPv4 or IPv6 text, optionally with a `%zone` suffix.
    public static func category(of ip: String) -> Category {
        var text = ip
        if let percent = text.firstIndex(of: "%") {
            // A zone only means something for link-local and multicast addresses; classify the address itself.
            text = String(text[..<percent])
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return category(ipv4: UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            return category(ipv6: bytes)
        }
        return .notAnAddress
    }

    // MARK: - IPv4

    /// Special-purpose IPv4 blocks, most specific first where they overlap (255.255.255.255 inside 240/4).
    private static let ipv4Blocks: [(prefix: UInt32, length: Int, category: Category)] = [
        (0xFFFF_FFFF, 32, .broadcast),
        (0x0000_0000, 8, .unspecified),
        (0x0A00_0000, 8, .privateNetwork),
        (0x6440_0000, 10, .sharedAddressSpace),
        (0x7F00_0000, 8, .loopback),
        (0xA9FE_0000, 16, .linkLocal),
        (0xAC10_0000, 12, .privateNetwork),
        (0xC000_0000, 24, .reserved),
        (0xC000_0200, 24, .documentation),
        (0xC058_6300, 24, .reserved),
        (0xC0A8_0000, 16, .privateNetwork),
        (0xC612_0000, 15, .benchmarking),
        (0xC633_6400, 24, .documentation),
        (0xCB00_7100, 24, .documentation),
        (0xE000_0000, 4, .multicast),
        (0xF000_0000, 4, .reserved),
    ]

    private static func category(ipv4 address: UInt32) -> Category {
        for block in ipv4Blocks {
            let mask = UInt32.max << UInt32(32 - block.length)
            if address & mask == block.prefix { return block.category }
        }
        return .publicUnicast
    }

    // MARK: - IPv6

    /// `bytes` are the 16 bytes of the address in network order.
    private static func category(ipv6 bytes: [UInt8]) -> Category {
        func starts(with prefix: [UInt8], bits: Int) -> Bool {
            for bit in 0..<bits {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                if bytes[bit / 8] & mask != prefix[bit / 8] & mask { return false }
            }
            return true
        }
        func embeddedIPv4(at offset: Int) -> UInt32 {
            bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let zeros = [UInt8](repeating: 0, count: 16)
        if bytes == zeros { return .unspecified }
        if bytes == zeros.dropLast() + [1] { return .loopback }
        if starts(with: zeros.prefix(10) + [0xFF, 0xFF], bits: 96) { return category(ipv4: embeddedIPv4(at: 12)) }
        if starts(with: zeros, bits: 96) { return category(ipv4: embeddedIPv4(at: 12)) }  // IPv4-compatible
        if starts(with: [0x00, 0x64, 0xFF, 0x9B] + zeros.prefix(8), bits: 96) {
            return category(ipv4: embeddedIPv4(at: 12))  // NAT64 well-known prefix
        }
        if starts(with: [0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01], bits: 48) { return .privateNetwork }
        if starts(with: [0x20, 0x02], bits: 16) { return category(ipv4: embeddedIPv4(at: 2)) }  // 6to4
        if starts(with: [0x20, 0x01, 0x0D, 0xB8], bits: 32) { return .documentation }
        if starts(with: [0x3F, 0xFF, 0x00], bits: 20) { return .documentation }
        if starts(with: [0x20, 0x01, 0x00, 0x02, 0x00, 0x00], bits: 48) { return .benchmarking }
        if starts(with: [0x20, 0x01, 0x00], bits: 23) { return .reserved }
        if starts(with: [0xFC], bits: 7) { return .privateNetwork }
        if starts(with: [0xFE, 0x80], bits: 10) { return .linkLocal }
        if starts(with: [0xFE, 0xC0], bits: 10) { return .privateNetwork }
        if starts(with: [0xFF], bits: 8) { return .multicast }
        if starts(with: [0x20], bits: 3) { return .publicUnicast }
        return .reserved  // 100::/64 and everything else outside 2000::/3
    }
}
