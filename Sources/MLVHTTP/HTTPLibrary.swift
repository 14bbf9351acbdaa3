import CCurl

public enum HTTPLibrary {
    /// e.g. "libcurl/7.88.1 OpenSSL/3.0.x zlib/1.2.13 …".
    public static var version: String { String(cString: curl_version()) }
}
