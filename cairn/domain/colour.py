"""Colour contrast (WCAG 2.x): which of black and white reads on an organisation's colour, for
the emails, the pages and the drawn badges alike."""


def relative_luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (the same) to 21 (black on white); WCAG AA asks 4.5 for body text."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(colour: str) -> str:
    """Black or white, whichever contrasts more with `colour`."""
    return "#000000" if contrast_ratio(colour, "#000000") > contrast_ratio(colour, "#ffffff") else "#ffffff"
