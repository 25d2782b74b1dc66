from typing import Any

# Any buffer of machine integers: nextmove uint32, rowbase and output int64; text bytes.
def counts(nextmove: Any, rowbase: Any, output: Any, text: Any) -> dict[int, int] | None: ...
