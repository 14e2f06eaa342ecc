import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256HexSync } from "../src/auth/sha256.ts";
import { sha256Hex } from "../src/keys/secrets.ts";

describe("sha256HexSync", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    assert.equal(sha256HexSync(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(sha256HexSync("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      sha256HexSync("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("matches Web Crypto on every length around the block boundaries, and on non-ASCII text", async () => {
    for (let n = 0; n <= 200; n++) {
      const s = "x".repeat(n);
      assert.equal(sha256HexSync(s), await sha256Hex(s), `length ${n}`);
    }
    const odd = "sk-ключ-🔑-" + "é".repeat(70);
    assert.equal(sha256HexSync(odd), await sha256Hex(odd));
  });
});
