# Build a list of 10^6 items by appending. Prints "1000000 999999".
def main():
    xs = []
    for i in range(1000000):
        xs.append(i)
    return "%d %d" % (len(xs), xs[-1])
print(main())
