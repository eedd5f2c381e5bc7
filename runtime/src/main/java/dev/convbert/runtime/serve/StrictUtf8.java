package dev.convbert.runtime.serve;

import dev.convbert.core.InvalidInputException;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Request bodies decoded as strict UTF-8 before JSON parsing: Jackson's byte parser accepts overlong forms (C0 80 for
 * NUL, E0 80 AF for '/'), which let a text smuggle characters past anything that checked the bytes; the JDK's
 * decoder, set to report, refuses them, lone surrogates and truncated sequences (RFC 3629).
 */
final class StrictUtf8 {
    private StrictUtf8() {}

    static String decode(byte[] body) {
        return decode(body, "body", "; send JSON encoded as UTF-8");
    }

    /** {@code bytes} as text, or a refusal saying "{@code what} is not valid UTF-8 (…){@code hint}". */
    static String decode(byte[] bytes, String what, String hint) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return d.decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(what + " is not valid UTF-8 (" + e.getMessage() + ")" + hint);
        }
    }
}
