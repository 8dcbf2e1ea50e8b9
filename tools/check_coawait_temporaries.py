#!/usr/bin/env python3
"""Fails when a co_await expression builds a braced temporary, a lambda that captures by value,
or a conditional operator.

g++ 12 miscompiles all three: the destructor of the temporary (for ?:, of the selected operand)
runs twice, a double free at run time. Such values must be named locals passed by reference or
moved. Usage:
    check_coawait_temporaries.py DIR...
"""
import os
import re
import sys

SAFE_CAPTURES = {"&", "this"}
NOT_TYPES = {"return", "else", "do", "try", "mutable"}


def blank_comments_and_strings(text):
    """Replaces comments and string literals with spaces, keeping offsets and line numbers."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def awaited_expression(text, start):
    """Returns the text from `start` to the end of the enclosing full-expression."""
    depth = 0
    end = start
    while end < len(text):
        char = text[end]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                break
        elif char == ";" and depth == 0:
            break
        end += 1
    return text[start:end]


def blank_lambda_bodies(expression):
    """Blanks the bodies of lambdas, whose statements are not part of the awaited expression."""
    chars = list(expression)
    for match in re.finditer(r"\]\s*\(", expression):
        # Skip the parameter list, then blank the first balanced {...} after it.
        position = match.end()
        depth = 1
        while position < len(chars) and depth:
            depth += {"(": 1, ")": -1}.get(chars[position], 0)
            position += 1
        while position < len(chars) and chars[position] != "{":
            if chars[position] in ";,)":
                break
            position += 1
        if position >= len(chars) or chars[position] != "{":
            continue
        depth = 0
        for index in range(position, len(chars)):
            if chars[index] == "{":
                depth += 1
            elif chars[index] == "}":
                depth -= 1
            if index > position and depth > 0 and chars[index] != "\n":
                chars[index] = " "
            if depth == 0:
                break
    return "".join(chars)


def hazards(expression):
    expression = blank_lambda_bodies(expression)
    found = []
    for match in re.finditer(r"\[([^\]]*)\]\s*(\(|mutable|->|\{)", expression):
        captures = [c.strip() for c in match.group(1).split(",") if c.strip()]
        if any(c not in SAFE_CAPTURES and not c.startswith("&") for c in captures):
            found.append(f"lambda capturing [{match.group(1)}]")
    for match in re.finditer(r"([A-Za-z_][\w:]*(?:<[^<>;]*>)?)\s*\{", expression):
        if match.group(1) not in NOT_TYPES:
            found.append(f"braced temporary {match.group(1)}{{...}}")
    for match in re.finditer(r"[(,]\s*\{", expression):
        found.append("braced argument {...}")
    if "?" in expression:
        found.append("conditional operator ?:")
    return found


def main(roots):
    problems = 0
    for root in roots:
        for directory, _, files in os.walk(root):
            for name in sorted(files):
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as source:
                    text = blank_comments_and_strings(source.read())
                for match in re.finditer(r"\bco_await\b", text):
                    for hazard in hazards(awaited_expression(text, match.end())):
                        line = text.count("\n", 0, match.start()) + 1
                        print(f"{path}:{line}: {hazard} inside a co_await expression; "
                              "bind it to a named local first (g++ 12 destroys it twice)")
                        problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src", "tests"]))
