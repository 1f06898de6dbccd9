"""Plain-text and Markdown tables for the benchmark's report."""


def table(header, rows, markdown=False):
    """Right-aligned plain-text columns, or a Markdown table."""
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines)


def heading(text, markdown=False):
    return f"\n### {text}\n" if markdown else f"\n{text}\n{'-' * len(text)}"


def milliseconds(ms):
    """Three significant digits, no decimals above 100."""
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.3g}"
