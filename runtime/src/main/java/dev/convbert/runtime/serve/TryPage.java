package dev.convbert.runtime.serve;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The page at {@code GET /} to try the model: static HTML and JS from the jar ({@code index.html}), no build step. Its
 * content-security policy allows only its own inline script and styles, and calls to this server.
 */
final class TryPage {
    private static final String POLICY = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
            + "img-src 'self' data:";

    private TryPage() {
    }

    static void send(HttpExchange e) throws IOException {
        byte[] page;
        try (InputStream in = TryPage.class.getResourceAsStream("index.html")) {
            page = in.readAllBytes();
        }
        e.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        e.getResponseHeaders().set("Content-Security-Policy", POLICY);
        e.sendResponseHeaders(200, page.length);
        try (OutputStream out = e.getResponseBody()) {
            out.write(page);
        }
    }
}
