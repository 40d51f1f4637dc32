// Typed entry points into libcurl's easy interface for Swift.
//
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so each argument type gets its own
// setter here. Callbacks are plain C function pointers: Swift passes non-capturing `@convention(c)` closures and
// finds its state through the matching *DATA pointer. The two socket helpers let a Swift open-socket callback
// vet a connection's address before any packet is sent. This module provides no stable API: only
// BottleneckNetwork/Curl.swift uses it.
#ifndef CCURLSHIM_H
#define CCURLSHIM_H

#include <stddef.h>
#include <curl/curl.h>

/// curl_global_init(CURL_GLOBAL_DEFAULT). Call once per process before the first easy handle is created.
CURLcode ccurl_global_init(void);

/// curl_easy_setopt for options that take a `long` (flags, counts, milliseconds).
CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);

/// curl_easy_setopt for options that take a `curl_off_t` (the *_LARGE sizes).
CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// curl_easy_setopt for options that take a C string. libcurl copies the string.
CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value);

/// curl_easy_setopt for options that take a data pointer (callback data, the error buffer, header lists).
/// libcurl keeps the pointer: what it points to must outlive the transfer.
CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value);

/// Sets CURLOPT_WRITEFUNCTION or CURLOPT_HEADERFUNCTION (`option`), which share one signature.
CURLcode ccurl_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback callback);

/// Sets CURLOPT_READFUNCTION.
CURLcode ccurl_setopt_read_function(CURL *handle, curl_read_callback callback);

/// Sets CURLOPT_SEEKFUNCTION (libcurl rewinds an upload with it, e.g. to resend it after a redirect).
CURLcode ccurl_setopt_seek_function(CURL *handle, curl_seek_callback callback);

/// Sets CURLOPT_OPENSOCKETFUNCTION: called for every address libcurl is about to connect to.
CURLcode ccurl_setopt_opensocket_function(CURL *handle, curl_opensocket_callback callback);

/// curl_easy_getinfo for infos that return a `long` (e.g. CURLINFO_RESPONSE_CODE).
CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// Writes the numeric host address of `address` (IPv4 dotted quad, or IPv6 text; an IPv4-mapped IPv6 address is
/// written as its IPv4 form) into `buffer` of `size` bytes. Returns 0, or -1 for an unknown address family or a
/// buffer that is too small.
int ccurl_address_string(const struct curl_sockaddr *address, char *buffer, size_t size);

/// Opens the socket libcurl asked for (what libcurl does without an open-socket callback), close-on-exec.
/// Returns CURL_SOCKET_BAD on failure, with errno set.
curl_socket_t ccurl_open_socket(const struct curl_sockaddr *address);

#endif
