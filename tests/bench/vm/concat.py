# 10^5 string appends of one character each. Prints 100000.
def main():
    s = ""
    for i in range(100000):
        s += "x"
    return len(s)
print(main())
