import BottleneckServing
import Testing

/// The address classifier against the IANA special-purpose registries, one row per address.
@Suite struct AddressPolicyTests {
    typealias Category = AddressPolicy.Category

    static let table: [(address: String, category: Category)] = [
        // Public IPv4, including the neighbours of special blocks.
        ("93.184.216.34", .publicUnicast), ("8.8.8.8", .publicUnicast), ("1.1.1.1", .publicUnicast),
        ("9.255.255.255", .publicUnicast), ("11.0.0.0", .publicUnicast), ("100.63.255.255", .publicUnicast),
        ("100.128.0.0", .publicUnicast), ("172.15.255.255", .publicUnicast), ("172.32.0.0", .publicUnicast),
        ("169.253.255.255", .publicUnicast), ("192.167.255.255", .publicUnicast), ("198.17.255.255", .publicUnicast),
        ("198.20.0.0", .publicUnicast), ("223.255.255.255", .publicUnicast),
        // Special IPv4.
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified),
        ("10.0.0.1", .privateNetwork), ("10.255.255.255", .privateNetwork), ("172.16.0.1", .privateNetwork),
        ("172.31.255.255", .privateNetwork), ("192.168.1.1", .privateNetwork),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
        ("255.255.255.255", .broadcast),
        ("198.18.0.1", .benchmarking), ("198.19.255.255", .benchmarking),
        ("192.0.2.1", .documentation), ("198.51.100.7", .documentation), ("203.0.113.9", .documentation),
        ("192.0.0.8", .reserved), ("192.88.99.1", .reserved), ("240.0.0.1", .reserved),
        ("255.255.255.254", .reserved),
        // Public IPv6.
        ("2606:2800:220:1::", .publicUnicast), ("2a00:1450:4001:80b::200e", .publicUnicast),
        ("2001:4860:4860::8888", .publicUnicast),
        // Special IPv6.
        ("::1", .loopback), ("0:0:0:0:0:0:0:1", .loopback), ("::", .unspecified),
        ("fc00::1", .privateNetwork), ("fd12:3456:789a::1", .privateNetwork), ("fec0::1", .privateNetwork),
        ("fe80::1", .linkLocal), ("fe80::1%eth0", .linkLocal), ("febf:ffff::1", .linkLocal),
        ("ff02::1", .multicast), ("ff0e::101", .multicast),
        ("2001:db8::1", .documentation), ("3fff:fff::1", .documentation),
        ("2001:2::1", .benchmarking), ("2001::1", .reserved), ("2001:1ff::1", .reserved),
        ("100::1", .reserved), ("4000::1", .reserved), ("fe00::1", .reserved),
        ("64:ff9b:1::1", .privateNetwork),
        // IPv4 inside IPv6: classified by the IPv4 address they carry.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:169.254.169.254", .linkLocal), ("::ffff:a9fe:a9fe", .linkLocal),
        ("::ffff:10.1.2.3", .privateNetwork), ("::ffff:8.8.8.8", .publicUnicast),
        ("::127.0.0.1", .loopback), ("::169.254.169.254", .linkLocal), ("::8.8.8.8", .publicUnicast),
        ("64:ff9b::169.254.169.254", .linkLocal), ("64:ff9b::a00:1", .privateNetwork),
        ("64:ff9b::8.8.8.8", .publicUnicast),
        ("2002:a9fe:a9fe::1", .linkLocal), ("2002:c0a8:0101::1", .privateNetwork),
        ("2002:0808:0808::1", .publicUnicast),
        // Not addresses.
        ("", .notAnAddress), ("localhost", .notAnAddress), ("127.1", .notAnAddress), ("1.2.3.4.5", .notAnAddress),
        ("256.1.1.1", .notAnAddress), ("::g", .notAnAddress), ("1.2.3.4 ", .notAnAddress),
    ]

    @Test(arguments: table)
    func classifies(address: String, category: Category) {
        #expect(AddressPolicy.category(of: address) == category, "\(address)")
    }

    @Test(arguments: table)
    func publicOnlyAllowsOnlyPublicUnicast(address: String, category: Category) {
        #expect(AddressPolicy.publicOnly.allows(address) == (category == .publicUnicast), "\(address)")
        #expect(AddressPolicy.allowingLoopback.allows(address) == (category == .publicUnicast || category == .loopback),
                "\(address)")
    }

    @Test func otherCategoriesOnlyByExplicitOption() {
        let privateToo = AddressPolicy(allowedCategories: [.publicUnicast, .privateNetwork])
        #expect(privateToo.allows("10.0.0.1"))
        #expect(!privateToo.allows("127.0.0.1"))
        #expect(!privateToo.allows("169.254.169.254"))
        let everything = AddressPolicy(allowedCategories: Set(Category.allCases))
        #expect(everything.allows("169.254.169.254"))
        #expect(!everything.allows("not-an-ip"), "text that is not an address is never allowed")
    }
}
