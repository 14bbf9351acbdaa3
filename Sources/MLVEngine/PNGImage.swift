internal import CPNG
import MLVSupport

/// A decoded image: samples scaled to [0, 1], `channels` = 1 (gray) or 3 (RGB), rows top to bottom.
struct PNGImage {
    /// The most pixels a PNG may decode to: a small compressed file can claim 16384² pixels
    /// (over 3 GB as floats), and decoding runs on every thread at once. 40 megapixels is more
    /// than a 6000×6000 photograph.
    static let maxPixels = 40_000_000
    /// Images above this many pixels are decoded one at a time (ImageSet.load).
    static let largePixels = 4_000_000

    /// Width × height as the file's IHDR chunk states them (a PNG must start with it), before
    /// libpng reads anything; 0 when the bytes are too short to say.
    static func claimedPixels(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 24 else { return 0 }
        func be32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
        let (pixels, overflow) = be32(16).multipliedReportingOverflow(by: be32(20))
        return overflow ? Int.max : pixels
    }

    var width: Int
    var height: Int
    var channels: Int
    var pixels: [Float]   // (height, width, channels)

    /// Decodes any PNG libpng reads (gray, gray+alpha, RGB, RGBA, palette, 1-16 bits) through
    /// libpng's simplified API, which reports errors as a message instead of a longjmp.
    /// 8-bit and palette images: alpha is dropped and the colour underneath kept (as Pillow's
    /// convert("RGB") does), samples / 255. 16-bit images are read as libpng's linear 16-bit
    /// format, samples / 65535 (unchanged values unless the file has a gAMA/sRGB chunk; with
    /// alpha, composited onto black).
    static func decode(_ bytes: [UInt8], path: String) throws -> PNGImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw EngineError("\(path): not a readable PNG (\(reason))",
                              hint: "every file in a class folder must be a PNG image")
        }
        let color = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let wide = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let channels = color ? 3 : 1
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= maxPixels else {
            png_image_free(&image)
            throw EngineError("\(path): PNG of \(width)×\(height) pixels is too large (at most \(maxPixels / 1_000_000) megapixels)",
                              hint: "scale the image down; the network sees it at train.image_size anyway")
        }
        var pixels = [Float](repeating: 0, count: width * height * channels)
        var ok: Int32
        if wide {
            image.format = (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | UInt32(PNG_FORMAT_FLAG_LINEAR)
            var buffer = [UInt16](repeating: 0, count: width * height * channels)
            ok = buffer.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil)
            }
            for i in 0..<buffer.count { pixels[i] = Float(buffer[i]) / 65535 }
        } else {
            // 8-bit output, keeping the alpha channel so that libpng does not composite.
            image.format = (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            let stored = channels + (alpha ? 1 : 0)
            var buffer = [UInt8](repeating: 0, count: width * height * stored)
            ok = buffer.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * stored), nil)
            }
            for i in 0..<(width * height) {
                for c in 0..<channels { pixels[i * channels + c] = Float(buffer[i * stored + c]) / 255 }
            }
        }
        guard ok != 0 else {
            let reason = message(of: &image)
            png_image_free(&image)
            throw EngineError("\(path): corrupt PNG (\(reason))", hint: "re-create or remove the file")
        }
        return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Encodes 8-bit gray (1), gray+alpha (2), RGB (3) or RGBA (4) samples. For tests and fixtures.
    static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        switch channels {
        case 1: image.format = UInt32(PNG_FORMAT_GRAY)
        case 2: image.format = UInt32(PNG_FORMAT_GA)
        case 3: image.format = UInt32(PNG_FORMAT_RGB)
        default: image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        }
        return try write(&image, rowBytes: width * channels, pixels: pixels, colormap: nil)
    }

    /// Encodes 16-bit gray samples (written as a 16-bit linear PNG).
    static func encode16(width: Int, height: Int, pixels: [UInt16]) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_LINEAR_Y)
        return try pixels.withUnsafeBytes { raw in
            try write(&image, rowBytes: width, pixels: Array(raw), colormap: nil)
        }
    }

    /// Encodes a palette image: `indices` into `palette` (RGB triples).
    static func encodePalette(width: Int, height: Int, indices: [UInt8], palette: [UInt8]) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)
        image.colormap_entries = UInt32(palette.count / 3)
        return try write(&image, rowBytes: width, pixels: indices, colormap: palette)
    }

    private static func write(_ image: inout png_image, rowBytes: Int, pixels: [UInt8], colormap: [UInt8]?) throws -> [UInt8] {
        var size = 0
        let ok1 = pixels.withUnsafeBytes { p in
            colormapPointer(colormap) { png_image_write_to_memory(&image, nil, &size, 0, p.baseAddress, Int32(rowBytes), $0) }
        }
        guard ok1 != 0 else { throw EngineError("PNG encoding failed: \(message(of: &image))") }
        var out = [UInt8](repeating: 0, count: size)
        let ok2 = pixels.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                colormapPointer(colormap) { png_image_write_to_memory(&image, o.baseAddress, &size, 0, p.baseAddress, Int32(rowBytes), $0) }
            }
        }
        guard ok2 != 0 else { throw EngineError("PNG encoding failed: \(message(of: &image))") }
        return Array(out.prefix(size))
    }

    private static func colormapPointer<T>(_ colormap: [UInt8]?, _ body: (UnsafeRawPointer?) -> T) -> T {
        guard let colormap else { return body(nil) }
        return colormap.withUnsafeBytes { body($0.baseAddress) }
    }
}
