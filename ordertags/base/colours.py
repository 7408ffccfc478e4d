"""CSS colour names (CSS Color Module Level 4), for checking tag colours."""

CSS_COLOUR_NAMES = frozenset(
    """
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite
gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki
lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen
lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen
magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen
mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown
seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen
steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
yellowgreen
""".split()
)


def is_colour(text: str) -> bool:
    """True for a CSS colour name (any case) or ``#rrggbb``.

    >>> is_colour("Gold"), is_colour("#ff0000"), is_colour("goldish")
    (True, True, False)
    """
    if text.startswith("#"):
        return len(text) == 7 and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    return text.lower() in CSS_COLOUR_NAMES


#: The sRGB value of each CSS colour name (CSS Color Module Level 4, section 6.1).
CSS_COLOUR_HEX = {
    "aliceblue": "#f0f8ff",
    "antiquewhite": "#faebd7",
    "aqua": "#00ffff",
    "aquamarine": "#7fffd4",
    "azure": "#f0ffff",
    "beige": "#f5f5dc",
    "bisque": "#ffe4c4",
    "black": "#000000",
    "blanchedalmond": "#ffebcd",
    "blue": "#0000ff",
    "blueviolet": "#8a2be2",
    "brown": "#a52a2a",
    "burlywood": "#deb887",
    "cadetblue": "#5f9ea0",
    "chartreuse": "#7fff00",
    "chocolate": "#d2691e",
    "coral": "#ff7f50",
    "cornflowerblue": "#6495ed",
    "cornsilk": "#fff8dc",
    "crimson": "#dc143c",
    "cyan": "#00ffff",
    "darkblue": "#00008b",
    "darkcyan": "#008b8b",
    "darkgoldenrod": "#b8860b",
    "darkgray": "#a9a9a9",
    "darkgreen": "#006400",
    "darkgrey": "#a9a9a9",
    "darkkhaki": "#bdb76b",
    "darkmagenta": "#8b008b",
    "darkolivegreen": "#556b2f",
    "darkorange": "#ff8c00",
    "darkorchid": "#9932cc",
    "darkred": "#8b0000",
    "darksalmon": "#e9967a",
    "darkseagreen": "#8fbc8f",
    "darkslateblue": "#483d8b",
    "darkslategray": "#2f4f4f",
    "darkslategrey": "#2f4f4f",
    "darkturquoise": "#00ced1",
    "darkviolet": "#9400d3",
    "deeppink": "#ff1493",
    "deepskyblue": "#00bfff",
    "dimgray": "#696969",
    "dimgrey": "#696969",
    "dodgerblue": "#1e90ff",
    "firebrick": "#b22222",
    "floralwhite": "#fffaf0",
    "forestgreen": "#228b22",
    "fuchsia": "#ff00ff",
    "gainsboro": "#dcdcdc",
    "ghostwhite": "#f8f8ff",
    "gold": "#ffd700",
    "goldenrod": "#daa520",
    "gray": "#808080",
    "green": "#008000",
    "greenyellow": "#adff2f",
    "grey": "#808080",
    "honeydew": "#f0fff0",
    "hotpink": "#ff69b4",
    "indianred": "#cd5c5c",
    "indigo": "#4b0082",
    "ivory": "#fffff0",
    "khaki": "#f0e68c",
    "lavender": "#e6e6fa",
    "lavenderblush": "#fff0f5",
    "lawngreen": "#7cfc00",
    "lemonchiffon": "#fffacd",
    "lightblue": "#add8e6",
    "lightcoral": "#f08080",
    "lightcyan": "#e0ffff",
    "lightgoldenrodyellow": "#fafad2",
    "lightgray": "#d3d3d3",
    "lightgreen": "#90ee90",
    "lightgrey": "#d3d3d3",
    "lightpink": "#ffb6c1",
    "lightsalmon": "#ffa07a",
    "lightseagreen": "#20b2aa",
    "lightskyblue": "#87cefa",
    "lightslategray": "#778899",
    "lightslategrey": "#778899",
    "lightsteelblue": "#b0c4de",
    "lightyellow": "#ffffe0",
    "lime": "#00ff00",
    "limegreen": "#32cd32",
    "linen": "#faf0e6",
    "magenta": "#ff00ff",
    "maroon": "#800000",
    "mediumaquamarine": "#66cdaa",
    "mediumblue": "#0000cd",
    "mediumorchid": "#ba55d3",
    "mediumpurple": "#9370db",
    "mediumseagreen": "#3cb371",
    "mediumslateblue": "#7b68ee",
    "mediumspringgreen": "#00fa9a",
    "mediumturquoise": "#48d1cc",
    "mediumvioletred": "#c71585",
    "midnightblue": "#191970",
    "mintcream": "#f5fffa",
    "mistyrose": "#ffe4e1",
    "moccasin": "#ffe4b5",
    "navajowhite": "#ffdead",
    "navy": "#000080",
    "oldlace": "#fdf5e6",
    "olive": "#808000",
    "olivedrab": "#6b8e23",
    "orange": "#ffa500",
    "orangered": "#ff4500",
    "orchid": "#da70d6",
    "palegoldenrod": "#eee8aa",
    "palegreen": "#98fb98",
    "paleturquoise": "#afeeee",
    "palevioletred": "#db7093",
    "papayawhip": "#ffefd5",
    "peachpuff": "#ffdab9",
    "peru": "#cd853f",
    "pink": "#ffc0cb",
    "plum": "#dda0dd",
    "powderblue": "#b0e0e6",
    "purple": "#800080",
    "rebeccapurple": "#663399",
    "red": "#ff0000",
    "rosybrown": "#bc8f8f",
    "royalblue": "#4169e1",
    "saddlebrown": "#8b4513",
    "salmon": "#fa8072",
    "sandybrown": "#f4a460",
    "seagreen": "#2e8b57",
    "seashell": "#fff5ee",
    "sienna": "#a0522d",
    "silver": "#c0c0c0",
    "skyblue": "#87ceeb",
    "slateblue": "#6a5acd",
    "slategray": "#708090",
    "slategrey": "#708090",
    "snow": "#fffafa",
    "springgreen": "#00ff7f",
    "steelblue": "#4682b4",
    "tan": "#d2b48c",
    "teal": "#008080",
    "thistle": "#d8bfd8",
    "tomato": "#ff6347",
    "turquoise": "#40e0d0",
    "violet": "#ee82ee",
    "wheat": "#f5deb3",
    "white": "#ffffff",
    "whitesmoke": "#f5f5f5",
    "yellow": "#ffff00",
    "yellowgreen": "#9acd32",
}


def colour_hex(text: str) -> str:
    """A tag colour as lower-case ``#rrggbb`` ("" for no or an unknown colour).

    >>> colour_hex("Gold"), colour_hex("#1F77B4"), colour_hex("")
    ('#ffd700', '#1f77b4', '')
    """
    if not text:
        return ""
    if text.startswith("#"):
        return text.lower() if is_colour(text) else ""
    return CSS_COLOUR_HEX.get(text.lower(), "")


def colour_rgb(text: str) -> tuple[int, int, int] | None:
    """A tag colour as (red, green, blue), 0-255; None for no colour."""
    value = colour_hex(text)
    if not value:
        return None
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _linear(channel: float) -> float:
    """An sRGB channel (0-255) as linear light (0-1)."""
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def contrast_text(text: str) -> str:
    """The text colour to write on a background of colour ``text``: ``#000000`` or
    ``#ffffff``, whichever has the higher WCAG 2 contrast ratio ("" for no colour).

    >>> contrast_text("gold"), contrast_text("navy"), contrast_text("red")
    ('#000000', '#ffffff', '#000000')
    """
    rgb = colour_rgb(text)
    if rgb is None:
        return ""
    luminance = _luminance(rgb)
    # Contrast with black: (L + 0.05) / 0.05; with white: 1.05 / (L + 0.05).
    return "#000000" if (luminance + 0.05) ** 2 >= 0.05 * 1.05 else "#ffffff"


#: An sRGB colour: red, green, blue, 0-255 (not rounded).
RGB = tuple[float, float, float]


def _luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour (channels 0-255, not rounded)."""
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """The WCAG 2 contrast ratio of two sRGB colours (1 to 21).

    >>> round(contrast((0, 0, 0), (255, 255, 255)), 1), round(contrast((0, 0, 0), (255, 0, 0)), 2)
    (21.0, 5.25)
    """
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


#: How a colour comes out on a black-and-white printer, as weights of the sRGB values: the
#: luma of PDF and PostScript (DeviceRGB to DeviceGray: 0.30 R + 0.59 G + 0.11 B) and
#: that of the CSS ``grayscale()`` filter (0.2126, 0.7152, 0.0722 on the sRGB values).
#: A colour printed as it is (or greyed by luminance) is checked as it is.
GREYS = ((0.30, 0.59, 0.11), (0.2126, 0.7152, 0.0722))

#: The contrast ratio WCAG 2 asks of normal text (level AA).
READABLE = 4.5


def greyed(rgb: RGB, weights: RGB) -> RGB:
    """``rgb`` as a grey of the luma ``weights`` (:data:`GREYS`)."""
    y = sum(w * c for w, c in zip(weights, rgb, strict=True))
    return (y, y, y)


def print_colours(text: str) -> tuple[str, str]:
    """The fill and text colours (``#rrggbb``) of a tag's badge on paper: the tag's own
    colour, darkened (under white text) or lightened (under black text) by the least
    amount, in steps of 5%, for the text to keep a contrast of at least 4.5:1 in colour
    and once printed in grey (each of :data:`GREYS`); ("", "") for no colour.

    Red under black text reads on screen (5.3:1) but prints as dark grey (2.5:1): on
    paper it is a slightly darker red under white text.

    >>> print_colours("red"), print_colours("gold"), print_colours("#1f77b4")
    (('#e60000', '#ffffff'), ('#ffd700', '#000000'), ('#1f77b4', '#ffffff'))
    """
    rgb = colour_rgb(text)
    if rgb is None:
        return "", ""
    preferred = contrast_text(text)
    best: tuple[int, int, str, RGB] | None = None
    for ink, towards in (("#000000", 255.0), ("#ffffff", 0.0)):
        ink_rgb: RGB = (255.0 - towards, 255.0 - towards, 255.0 - towards)
        for step in range(21):
            t = step / 20
            r, g, b = (round(c + (towards - c) * t) for c in rgb)  # as the page writes it
            fill: RGB = (r, g, b)
            pairs = [(fill, ink_rgb), *((greyed(fill, w), greyed(ink_rgb, w)) for w in GREYS)]
            if all(contrast(f, i) >= READABLE for f, i in pairs):
                rank = (step, 0 if ink == preferred else 1)
                if best is None or rank < best[:2]:
                    best = (*rank, ink, fill)
                break
    assert best is not None  # white on black and black on white always read
    _, _, ink, fill = best
    return "#" + "".join(f"{int(c):02x}" for c in fill), ink
