import java.util.*;
public class Heap {
  record User(int id, String name, String email, int age, double score, List<String> tags) {}
  public static void main(String[] a) throws Exception {
    String[] W = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(" ");
    Random r = new Random(5); int n = a.length > 0 ? Integer.parseInt(a[0]) : 1200000;
    Map<String, User> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      String name = W[r.nextInt(W.length)] + " " + W[r.nextInt(W.length)];
      List<String> tags = new ArrayList<>(); for (int k = r.nextInt(5); k > 0; k--) tags.add(W[r.nextInt(W.length)]);
      m.put("user:" + i, new User(i, name, name.replace(' ', '.') + "." + i + "@example.com", 18 + r.nextInt(72), r.nextDouble() * 100, tags));
    }
    System.out.println("ready"); System.out.flush(); System.in.read();
    System.out.println(m.size());
  }
}
